#!/usr/bin/env bash
# One side of a move between PostgreSQL majors (test/moves/run.sh calls it,
# as root, on the machine or in the chroot that has that major):
#
#   side.sh install M           build and install reclock (test build) for M
#   side.sh old M PORT DIR      make M's cluster, start it on 127.0.0.1:PORT,
#                               take locks as DBAs' applications do; writes
#                               the tokens and fences to DIR/state
#   side.sh dump M PORT DIR     pg_dumpall --globals-only and pg_dump -Fc of
#                               the server on 127.0.0.1:PORT with M's own
#                               tools, into DIR/globals-M.sql, DIR/app-M.dump
#   side.sh stop M              stop M's cluster made by `old`
#   side.sh restore M DIR D...  a new cluster of M; the roles from
#                               DIR/globals-M.sql; each DIR/app-D.dump
#                               restored into its own database; check each
#   side.sh upgrade OLD NEW DIR `old` on OLD, then pg_upgrade to NEW; check
#
# The checks (check_moved) are the same for every move.  Servers run as user
# postgres, in /tmp/reclock-moves-M (of this machine or chroot); the socket
# (trust) is in a directory only postgres can enter, TCP needs the password
# in DIR/password.  Every check prints "ok - ..." or "not ok - ...".
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd -P)
WERROR="-Wall -Werror -Wno-unused-parameter"

bin() { echo "/usr/lib/postgresql/$1/bin"; }
home() { echo "/tmp/reclock-moves-$1"; }
as_pg() { runuser -u postgres -- "$@"; }

# make M's cluster in DIR (initdb with the password), not started
make_cluster() {
	local m=$1 data=$2 pw=$3
	rm -rf "$data"
	install -d -o postgres -m 700 "$(dirname "$data")"
	(umask 077; echo "$pw" > "$(dirname "$data")/pwfile")
	chown postgres "$(dirname "$data")/pwfile"
	as_pg "$(bin "$m")/initdb" -D "$data" -U postgres --pwfile="$(dirname "$data")/pwfile" \
		-E UTF8 --no-locale --auth-local=trust --auth-host=scram-sha-256 >/dev/null
	rm -f "$(dirname "$data")/pwfile"
}
start_cluster() {  # M DATA PORT LISTEN
	as_pg "$(bin "$1")/pg_ctl" -D "$2" -l "$2/../log" -w -o "-p $3 -c listen_addresses='$4' -k $(dirname "$2")" start >/dev/null
}

# psql as ROLE on DB of the cluster in HOME, port PORT: one value per line
q() {  # HOME PORT ROLE DB SQL
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$1" -p "$2" -U "$3" -d "$4" -c "$5"
}
# the same, but return the error (SQLSTATE: message) of a failing statement
err() {
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$1" -p "$2" -U "$3" -d "$4" \
		-c '\set VERBOSITY verbose' -c "$5" 2>&1 >/dev/null | sed -n 's/^[^:]*ERROR:  //p' | head -1 || true
}

is() {  # DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		echo "#   expected: $2"
		echo "#        got: $3"
	fi
}
like() {  # DESCRIPTION REGEX ACTUAL
	if [[ $3 =~ $2 ]]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		echo "#   expected to match: $2"
		echo "#                 got: $3"
	fi
}

# what the applications did before the move: alice (role app) edits doc 1
# in two tabs (two tokens of one grant) and order 1 (a parent row: its lines
# are covered); bob's lock on doc 2 was released (not live, but its fence
# was issued)
setup_old() {  # HOME PORT DIR
	local h=$1 p=$2 dir=$3
	q "$h" "$p" postgres postgres "CREATE ROLE app LOGIN" >/dev/null
	q "$h" "$p" postgres postgres "CREATE ROLE other LOGIN" >/dev/null
	q "$h" "$p" postgres postgres "CREATE DATABASE app" >/dev/null
	psql -X -q -v ON_ERROR_STOP=1 -h "$h" -p "$p" -U postgres -d app >/dev/null <<-'EOF'
	CREATE EXTENSION reclock;
	CREATE TABLE docs (id int PRIMARY KEY, body text);
	INSERT INTO docs SELECT g, 'doc ' || g FROM generate_series(1, 4) g;
	CREATE TABLE orders (id int PRIMARY KEY, customer text);
	CREATE TABLE order_lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders, qty int);
	INSERT INTO orders VALUES (1, 'acme'), (2, 'globex');
	INSERT INTO order_lines VALUES (10, 1, 5), (11, 1, 1), (20, 2, 2);
	GRANT SELECT, INSERT, UPDATE, DELETE ON docs, orders, order_lines TO app, other;
	SELECT reclock_protect('docs');
	SELECT reclock_protect('orders');
	SELECT reclock_protect('order_lines', parent => 'orders');
	EOF
	local t1 f1 t1b f1b to fo tb fb
	read -r t1 f1 < <(q "$h" "$p" app app "SELECT token || ' ' || fence FROM reclock_acquire('docs', '1', 'alice', '1 day')")
	read -r t1b f1b < <(q "$h" "$p" app app "SELECT token || ' ' || fence FROM reclock_acquire('docs', '1', 'alice', '1 day')")
	read -r to fo < <(q "$h" "$p" app app "SELECT token || ' ' || fence FROM reclock_acquire('orders', '1', 'alice', '1 day')")
	read -r tb fb < <(q "$h" "$p" app app "SELECT token || ' ' || fence FROM reclock_acquire('docs', '2', 'bob', '1 day')")
	is "old $(q "$h" "$p" postgres postgres 'SHOW server_version_num'): the second tab's acquire is the same grant (same fence)" "$f1" "$f1b"
	is "old: bob releases doc 2" t "$(q "$h" "$p" app app "SELECT reclock_release('$tb')")"
	# the test means something: before the move, the locks refuse
	like "old: an UPDATE of doc 1 without a token is refused (55P03)" '^55P03' \
		"$(err "$h" "$p" app app "UPDATE docs SET body = 'x' WHERE id = 1")"
	like "old: an INSERT of a line of order 1 without a token is refused (55P03)" '^55P03' \
		"$(err "$h" "$p" app app "INSERT INTO order_lines VALUES (12, 1, 9)")"
	is "old: role other naming holder alice is another holder" f \
		"$(q "$h" "$p" other app "SELECT acquired FROM reclock_acquire('docs', '1', 'alice', '1 day')")"
	cat > "$dir/state" <<-EOF
	T1=$t1
	T1B=$t1b
	F1=$f1
	TO=$to
	FO=$fo
	FB=$fb
	EOF
}

# after the move: the same assertions whichever way it moved
check_moved() {  # LABEL HOME PORT DB DIR
	local l=$1 h=$2 p=$3 db=$4 dir=$5
	local T1 T1B F1 TO FO FB
	. "$dir/state"
	local fmax=$FB
	[ "$FO" -gt "$fmax" ] && fmax=$FO
	[ "$F1" -gt "$fmax" ] && fmax=$F1
	is "$l: reclock_valid of alice's token (made before the move) is true" t \
		"$(q "$h" "$p" app "$db" "SELECT reclock_valid('$T1')")"
	is "$l: ... and of her second tab's token" t \
		"$(q "$h" "$p" app "$db" "SELECT reclock_valid('$T1B')")"
	is "$l: reclock_locks shows the live locks, their fences and roles (bob's ended one is not there)" \
		"docs|1|alice|$F1|app,orders|1|alice|$FO|app" \
		"$(q "$h" "$p" app "$db" "SELECT string_agg(concat_ws('|', relation, key, holder, fence, acquired_by), ',' ORDER BY relation::text, key) FROM reclock_locks")"
	like "$l: an UPDATE of doc 1 without the token is refused (55P03)" \
		'^55P03: .*locked by "alice"' \
		"$(err "$h" "$p" app "$db" "UPDATE docs SET body = 'stolen' WHERE id = 1")"
	like "$l: ... as is a DELETE" '^55P03' \
		"$(err "$h" "$p" app "$db" "DELETE FROM docs WHERE id = 1")"
	like "$l: an INSERT of a line of order 1 without the order's token is refused (55P03)" \
		'^55P03: .*parent row 1 of table "orders" is locked by "alice"' \
		"$(err "$h" "$p" app "$db" "INSERT INTO order_lines VALUES (12, 1, 9)")"
	is "$l: alice's UPDATE with her token passes" "moved" \
		"$(q "$h" "$p" app "$db" "BEGIN; SELECT set_config('reclock.token', '$T1', true) IS NULL; UPDATE docs SET body = 'moved' WHERE id = 1 RETURNING body; COMMIT;" | sed -n 2p)"
	is "$l: ... and with her second tab's token" "moved again" \
		"$(q "$h" "$p" app "$db" "BEGIN; SELECT set_config('reclock.token', '$T1B', true) IS NULL; UPDATE docs SET body = 'moved again' WHERE id = 1 RETURNING body; COMMIT;" | sed -n 2p)"
	is "$l: alice writes a line of order 1 with the order's token" "12" \
		"$(q "$h" "$p" app "$db" "BEGIN; SELECT set_config('reclock.token', '$TO', true) IS NULL; INSERT INTO order_lines VALUES (12, 1, 9) RETURNING id; COMMIT;" | sed -n 2p)"
	is "$l: the body is alice's" "moved again" \
		"$(q "$h" "$p" app "$db" "SELECT body FROM docs WHERE id = 1")"
	local acq fence tok
	read -r acq fence < <(q "$h" "$p" app "$db" "SELECT acquired || ' ' || fence FROM reclock_acquire('docs', '3', 'carol', '1 day')")
	is "$l: a new grant (carol, doc 3) is made" true "$acq"
	like "$l: ... and its fence ($fence) is larger than every fence issued before the move ($fmax)" '^yes$' \
		"$([ "$fence" -gt "$fmax" ] && echo yes || echo "no: $fence <= $fmax")"
	read -r acq fence < <(q "$h" "$p" app "$db" "SELECT acquired || ' ' || fence FROM reclock_acquire('docs', '2', 'bob', '1 day')")
	like "$l: bob's new grant of doc 2 has a larger fence ($fence) than his released one ($FB)" '^true yes$' \
		"$acq $([ "$fence" -gt "$FB" ] && echo yes || echo no)"
	read -r acq tok fence < <(q "$h" "$p" app "$db" "SELECT acquired || ' ' || token || ' ' || fence FROM reclock_acquire('docs', '1', 'alice', '1 day')")
	is "$l: alice re-acquires doc 1: the same grant (fence $F1), a fresh token" "true $F1 fresh" \
		"$acq $fence $([ "$tok" != "$T1" ] && [ "$tok" != "$T1B" ] && echo fresh || echo same)"
	is "$l: ... and her token from before the move stays valid" t \
		"$(q "$h" "$p" app "$db" "SELECT reclock_valid('$T1')")"
	is "$l: role other naming holder alice is still another holder (refused, alice's fence)" "false alice $F1" \
		"$(q "$h" "$p" other "$db" "SELECT acquired || ' ' || holder || ' ' || fence FROM reclock_acquire('docs', '1', 'alice', '1 day')")"
	is "$l: alice releases with her token from before the move" t \
		"$(q "$h" "$p" app "$db" "SELECT reclock_release('$T1')")"
	is "$l: ... which ends the grant: her other tokens are not valid any more" "false false" \
		"$(q "$h" "$p" app "$db" "SELECT reclock_valid('$T1B') || ' ' || reclock_valid('$tok')")"
	is "$l: ... and anyone writes doc 1 again" "1" \
		"$(q "$h" "$p" other "$db" "UPDATE docs SET body = 'free' WHERE id = 1 RETURNING id")"
}

cmd=${1:?usage: side.sh install|old|dump|stop|restore|upgrade ...}
shift
case $cmd in
install)
	m=$1
	cd "$top"
	make --no-print-directory clean >/dev/null
	make --no-print-directory PG_CONFIG="$(bin "$m")/pg_config" PG_CHROOT=no RECLOCK_TESTING=1 PROFILE="$WERROR" all >/dev/null
	make --no-print-directory PG_CONFIG="$(bin "$m")/pg_config" PG_CHROOT=no RECLOCK_TESTING=1 PROFILE="$WERROR" install >/dev/null
	echo "# reclock installed for $("$(bin "$m")/pg_config" --version)"
	;;
old)
	m=$1 port=$2 dir=$3
	h=$(home "$m")
	make_cluster "$m" "$h/data" "$(cat "$dir/password")"
	start_cluster "$m" "$h/data" "$port" 127.0.0.1
	setup_old "$h" "$port" "$dir"
	;;
dump)
	m=$1 port=$2 dir=$3
	export PGPASSWORD; PGPASSWORD=$(cat "$dir/password")
	"$(bin "$m")/pg_dumpall" -h 127.0.0.1 -p "$port" -U postgres --globals-only -f "$dir/globals-$m.sql"
	"$(bin "$m")/pg_dump" -h 127.0.0.1 -p "$port" -U postgres -Fc -f "$dir/app-$m.dump" -d app
	echo "# dumped with $("$(bin "$m")/pg_dump" --version) from the server on port $port"
	;;
stop)
	m=$1
	h=$(home "$m")
	if [ -f "$h/data/postmaster.pid" ]; then as_pg "$(bin "$m")/pg_ctl" -D "$h/data" -w stop -m fast >/dev/null; fi
	rm -rf "$h"
	;;
restore)
	m=$1 dir=$2; shift 2
	h=$(home "$m")
	port=$(cat "$dir/port-$m")
	make_cluster "$m" "$h/data" "$(cat "$dir/password")"
	start_cluster "$m" "$h/data" "$port" ''
	trap '"$0" stop "$m"' EXIT
	# the roles first (as pg_dumpall -g says: postgres exists already)
	psql -X -q -h "$h" -p "$port" -U postgres -d postgres -f "$dir/globals-$m.sql" >/dev/null 2>"$h/globals.err" || true
	is "new $m: pg_dumpall --globals-only made the roles (only 'role \"postgres\" already exists' failed)" \
		"" "$(grep ERROR "$h/globals.err" | grep -v 'role "postgres" already exists' || true)"
	for d in "$@"; do
		q "$h" "$port" postgres postgres "CREATE DATABASE app_$d" >/dev/null
		"$(bin "$m")/pg_restore" --exit-on-error -h "$h" -p "$port" -U postgres -d "app_$d" "$dir/app-$d.dump"
		echo "ok - new $m: pg_restore of the dump made by pg_dump $d"
		check_moved "dump by pg_dump $d, restored on $m" "$h" "$port" "app_$d" "$dir"
	done
	;;
upgrade)
	old=$1 new=$2 dir=$3
	h=$(home "$old") hn=$(home "$new")
	port=$(cat "$dir/port-$old")
	trap '"$0" stop "$old"; "$0" stop "$new"' EXIT
	make_cluster "$old" "$h/data" "$(cat "$dir/password")"
	start_cluster "$old" "$h/data" "$port" ''
	setup_old "$h" "$port" "$dir"
	as_pg "$(bin "$old")/pg_ctl" -D "$h/data" -w stop >/dev/null
	make_cluster "$new" "$hn/data" "$(cat "$dir/password")"
	# pg_upgrade runs in a directory postgres may write to, its servers on a socket there
	if (cd "$hn" && as_pg "$(bin "$new")/pg_upgrade" -b "$(bin "$old")" -B "$(bin "$new")" \
		-d "$h/data" -D "$hn/data" -p "$port" -P "$port" -s "$hn" -U postgres >"$hn/pg_upgrade.out" 2>&1); then
		echo "ok - pg_upgrade from $old to $new"
	else
		echo "not ok - pg_upgrade from $old to $new"
		sed 's/^/#   /' "$hn/pg_upgrade.out"
		find "$hn/data/pg_upgrade_output.d" -name '*.log' -exec tail -n 30 {} + 2>/dev/null | sed 's/^/#   /'
		exit 1
	fi
	start_cluster "$new" "$hn/data" "$port" ''
	is "the upgraded cluster runs $new" "$new" \
		"$(q "$hn" "$port" postgres postgres "SELECT current_setting('server_version_num')::int / 10000")"
	check_moved "pg_upgrade $old to $new" "$hn" "$port" app "$dir"
	;;
*)
	echo "side.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
