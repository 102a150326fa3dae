#!/usr/bin/env perl
# test/layout/check.sh [SRCDIR] [-v]: nothing calls up.
#
# The order of reclock's files is the order of the sections of
# SRCDIR/reclock.h ("/*--- file.c: ... ---*/"), bottom first.  From the
# object files (nm), this fails when
#   - a file calls (or reads a variable of) a file whose section comes
#     after its own: a call up;
#   - a function or variable declared in one file's section is defined in
#     another file (or nowhere): the header lies about who owns it;
#   - a src/*.c file has no section, or a section no file.
# -v prints who uses whom.  Run after a build (make layout-check).
use strict;
use warnings;

my $src = 'src';
my $verbose = 0;
for (@ARGV) { if ($_ eq '-v') { $verbose = 1 } else { $src = $_ } }
my @fail;

# the order, and what each section declares
open(my $h, '<', "$src/reclock.h") or die "$src/reclock.h: $!";
my (@order, %rank, %declared_in, $cur, $stmt);
while (my $line = <$h>) {
	if ($line =~ m{^/\*--- (\w+)\.c: }) {
		$cur = $1;
		die "section $cur twice\n" if exists $rank{$cur};
		$rank{$cur} = scalar @order;
		push @order, $cur;
		next;
	}
	next unless defined $cur;
	if (defined $stmt || $line =~ /^extern\b/) {
		$stmt = (defined $stmt ? $stmt : '') . $line;
		next unless $stmt =~ /;/;
		my $name;
		if ($stmt =~ /\b(\w+)\s*\(/) { $name = $1 }	# a function
		elsif ($stmt =~ /\b(\w+)\s*(\[[^]]*\])?\s*;/) { $name = $1 }	# a variable
		$declared_in{$name} = $cur if defined $name;
		undef $stmt;
	}
}
close $h;
die "no sections in $src/reclock.h\n" unless @order;

# the files
my %files = map { m{([^/]+)\.c$}; ($1 => 1) } glob("$src/*.c");
for my $f (sort keys %files) {
	push @fail, "src/$f.c has no section in reclock.h" unless exists $rank{$f};
}
for my $f (@order) {
	push @fail, "reclock.h has a section for $f.c, which does not exist" unless $files{$f};
}

# who defines what, who uses what (nm)
my (%defined_in, %uses);
for my $f (@order) {
	next unless $files{$f};
	my $o = "$src/$f.o";
	die "$o is missing: build first (make)\n" unless -f $o;
	for (`nm -g --defined-only $o`) {
		my @w = split;
		$defined_in{$w[2]} = $f if @w == 3 && $w[1] =~ /[TDBRCGS]/;
	}
}
for my $f (@order) {
	next unless $files{$f};
	for (`nm -u $src/$f.o`) {
		my @w = split;
		my $sym = $w[-1];
		my $g = $defined_in{$sym};
		next unless defined $g && $g ne $f;
		push @{ $uses{$f}{$g} }, $sym;
		push @fail, "$f.c calls up: $sym ($g.c is above $f.c)" if $rank{$g} > $rank{$f};
	}
}
for my $name (sort keys %declared_in) {
	my $d = $defined_in{$name};
	my $s = $declared_in{$name};
	if (!defined $d) {
		# a test build's function in a production build, say: warn only
		# if no object defines it and it is not conditional
		next if $name eq 'ReclockTestPause';
		push @fail, "$name is declared in $s.c's section but defined in no object";
	} elsif ($d ne $s) {
		push @fail, "$name is declared in $s.c's section but defined in $d.c";
	}
}

if ($verbose) {
	for my $f (reverse @order) {
		next unless $uses{$f};
		printf "%-10s -> %s\n", $f,
		  join(', ', sort { $rank{$b} <=> $rank{$a} } keys %{ $uses{$f} });
	}
}
if (@fail) {
	print STDERR "layout: $_\n" for @fail;
	exit 1;
}
print "layout: ok (" . scalar(@order) . " files, nothing calls up)\n";
