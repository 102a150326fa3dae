#!/usr/bin/env bash
# Moving between majors keeps every live lock, token and fence, as DBAs move:
#
#  1. pg_upgrade from 18 to 19 (both from Debian's packages: sid's 18 beside
#     experimental's 19, in the chroot of 19);
#  2. a 15 cluster (bookworm's packages) dumped and restored on 17 (trixie's):
#     with 17's pg_dumpall -g and pg_dump over TCP (what PostgreSQL's docs
#     advise: the newer pg_dump), and with 15's own pg_dump, both restored
#     with 17's pg_restore into a new 17 cluster.
#
# Before the move (test/moves/side.sh, setup_old) an application role takes
# locks on a row and on a parent row whose child rows it covers, in two tabs;
# another lock is released.  After the move (check_moved) the tokens from
# before are valid, their holder writes with them, a write without them is
# refused (55P03), a new grant's fence is larger than every fence issued
# before, the same holder re-acquires the same grant, another role naming the
# same holder is refused, and a release with an old token ends the grant.
#
#   test/moves/run.sh          (as root; `make test-moves` runs it)
#
# A major this machine's Debian ships (15 on Debian 12) runs on the machine,
# any other in its chroot (.ci/in-chroot.sh); MOVES_CHROOT="15" runs 15 in
# its chroot too (bookworm), e.g. where the machine's 15 must not be touched.
# Prints one line per check and "moves: N passed, M failed" at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd -P)
# shared by the sides (the checkout is mounted in every chroot; not in
# tmp_check, which `make clean` removes)
dir=$top/test/moves/work
t0=$(date +%s)

in_chroot() {  # MAJOR: does that major run in its chroot here?
	case " ${MOVES_CHROOT:-} " in *" $1 "*) return 0 ;; esac
	.ci/in-chroot.sh --needed "$1"
}
on() {  # MAJOR COMMAND...: run COMMAND where MAJOR is installed
	local m=$1; shift
	if in_chroot "$m"; then .ci/in-chroot.sh "$m" "$@"; else "$@"; fi
}
# a TCP port nobody listens on (the chroots share the machine's network)
free_port() {
	local p
	for _ in $(seq 100); do
		p=$(( 20000 + RANDOM % 20000 ))
		if ! grep -qi ":$(printf '%04X' "$p") .* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	echo "no free port" >&2; return 1
}

rm -rf "$dir"
mkdir -p "$dir"
chmod 700 "$dir"
(umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password")
log=$dir/out
: > "$log"
say() { echo "$*" | tee -a "$log"; }
step() {  # DESCRIPTION COMMAND...: run, keep the output; a failing step is a failed check
	local d=$1; shift
	if "$@" 2>&1 | tee -a "$log"; then :; else say "not ok - $d (failed)"; return 1; fi
}

# 1. pg_upgrade 18 -> 19, in the chroot of 19 (make deps PG_MAJOR=19 installs 18 there too)
t=$(date +%s)
make --no-print-directory deps PG_MAJOR=19
free_port > "$dir/port-18"
say "# pg_upgrade 18 -> 19"
step "install reclock for 18" on 19 test/moves/side.sh install 18 &&
step "install reclock for 19" on 19 test/moves/side.sh install 19 &&
step "pg_upgrade 18 -> 19" on 19 test/moves/side.sh upgrade 18 19 "$dir" || true
say "# pg_upgrade 18 -> 19: $(( $(date +%s) - t )) s"

# 2. dump on 15, restore on 17
t=$(date +%s)
say "# 15 -> 17: pg_dump and pg_restore"
if in_chroot 15; then
	.ci/in-chroot.sh 15 make --no-print-directory deps PG_MAJOR=15 APP_SUITES=no
else
	make --no-print-directory deps PG_MAJOR=15 APP_SUITES=no
fi
make --no-print-directory deps PG_MAJOR=17
port=$(free_port)
echo "$port" > "$dir/port-15"
free_port > "$dir/port-17"
stop15() { on 15 test/moves/side.sh stop 15 || true; }
trap stop15 EXIT
if step "install reclock for 15" on 15 test/moves/side.sh install 15 &&
	step "install reclock for 17" on 17 test/moves/side.sh install 17 &&
	step "a 15 cluster with live locks" on 15 test/moves/side.sh old 15 "$port" "$dir" &&
	step "pg_dump 15 of the 15 cluster" on 15 test/moves/side.sh dump 15 "$port" "$dir" &&
	step "pg_dump 17 of the 15 cluster, over TCP" on 17 test/moves/side.sh dump 17 "$port" "$dir"; then
	stop15
	trap - EXIT
	# the roles from 17's pg_dumpall -g; each dump into a database of its own
	step "restore on 17" on 17 test/moves/side.sh restore 17 "$dir" 17 15 || true
fi
stop15
trap - EXIT
say "# 15 -> 17: $(( $(date +%s) - t )) s"

passed=$(grep -c '^ok ' "$log" || true)
failed=$(grep -c '^not ok ' "$log" || true)
echo "# moves took $(( $(date +%s) - t0 )) s"
echo "moves: $passed passed, $failed failed"
if [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
	grep -A3 '^not ok ' "$log" >&2 || true
	exit 1
fi
rm -rf "$dir"
