#!/usr/bin/env bash
# Instruction counts of the hot paths, steadier than TPS on a noisy machine:
# each workload runs in a single-user backend (postgres --single, one
# transaction per statement, synchronous_commit=off) under
# valgrind --tool=callgrind, with 200 and with 2 200 units; the difference
# divided by 2 000 (by 40 000 rows for bulk_*) is the cost of one unit.
#
#   bench/callgrind.sh [WORKLOAD...]     (as a user that may run initdb,
#                                         after make install; needs valgrind)
# WORKLOAD: reclock (acquire+release, one statement), pl (the PL/pgSQL lock
# table's cycle), floor (two single-row UPDATE transactions), upd_TABLE (one
# single-row UPDATE of bt_plain, bt_prot or bt_noop), bulk_TABLE (UPDATE of
# many rows), upd_locked (bt_prot with one live lock on it), bulk_locked (the
# bulk UPDATE of that table, all rows but the locked one), cas (reclock_cas
# check+swap of one row) and cas_plain (the plain UPDATE it is compared with).
# Documents (setup_children.sql): bt_lines* are child tables of bt_orders
# (10 lines per order; bt_lines1k*: 1 000, bt_lines1*: 1), *_row the same
# table with the row guard only, *_plain unprotected; upd_ and bulk_ as
# above, ins_TABLE (INSERT of many lines in one statement, rolled back),
# del_TABLE (DELETE of many lines, rolled back), both per row, and
# lk_WORKLOAD (the same with one live lock on an order none of its lines
# belongs to).  Workloads of one invocation share one cluster: a workload
# that runs after another on the same table finds it bloated by the earlier
# one, so run lk_X in an invocation of its own, not after X.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
work=$(mktemp -d)
# CG_KEEP=DIR keeps the callgrind output files (cg.WORKLOAD.N) for callgrind_annotate
trap 'if [ -n "${CG_KEEP:-}" ]; then cp "$work"/cg.* "$CG_KEEP"/ 2>/dev/null || true; fi; rm -rf "$work"' EXIT
cd "$work"
"$bin/initdb" -D data -A trust >/dev/null
"$bin/pg_ctl" -D data -o "-p 55439 -k $work -c listen_addresses=" -l log -w start >/dev/null
psql -X -q -h "$work" -p 55439 -d postgres -v ON_ERROR_STOP=1 -f "$here/setup.sql" >/dev/null 2>&1
psql -X -q -h "$work" -p 55439 -d postgres -v ON_ERROR_STOP=1 -f "$here/setup_children.sql" >/dev/null 2>&1
psql -X -q -h "$work" -p 55439 -d postgres -c "CREATE TABLE bt_locked AS SELECT * FROM bt_prot" \
	-c "ALTER TABLE bt_locked ADD PRIMARY KEY (id)" -c "SELECT reclock_protect('bt_locked')" \
	-c "SELECT acquired FROM reclock_acquire('bt_locked', '1', 'someone', '1 day')" \
	-c "VACUUM ANALYZE bt_locked" \
	-c "CREATE TABLE bt_cas AS SELECT id, 1 AS v FROM bt_plain" -c "ALTER TABLE bt_cas ADD PRIMARY KEY (id)" \
	-c "VACUUM ANALYZE bt_cas" >/dev/null
"$bin/pg_ctl" -D data -w stop >/dev/null

lines_per_order() { case $1 in bt_lines1k*) echo 1000 ;; bt_lines1*) echo 1 ;; *) echo 10 ;; esac; }
gen() {  # WORKLOAD N -> N units of SQL
	case $1 in
	reclock) awk -v n="$2" 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "SELECT reclock_release(token) FROM reclock_acquire(\047bt\047, \047%d\047, \047h\047);\n", int(rand() * 99999) + 1 }' ;;
	pl) awk -v n="$2" 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "SELECT pl_release(token) FROM pl_acquire(\047bt\047, \047%d\047, \047h\047);\n", int(rand() * 99999) + 1 }' ;;
	floor) awk -v n="$2" 'BEGIN { srand(7); for (i = 0; i < n; i++) { k = int(rand() * 99999) + 1; printf "UPDATE floor_t SET v = v + 1 WHERE id = %d;\nUPDATE floor_t SET v = v + 1 WHERE id = %d;\n", k, k } }' ;;
	upd_locked) gen upd_bt_locked "$2" ;;
	cas) awk -v n="$2" 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "SELECT reclock_cas(\047bt_cas\047, \047%d\047, \047{\"v\": 1}\047, \047{\"v\": 1}\047);\n", int(rand() * 99999) + 1 }' ;;
	cas_plain) gen upd_bt_cas "$2" | sed 's/v = v + 1/v = 1/' ;;
	upd_*) awk -v n="$2" -v t="${1#upd_}" 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "UPDATE %s SET v = v + 1 WHERE id = %d;\n", t, int(rand() * 99998) + 2 }' ;;
	# children (setup_children.sql): lines per order of a table
	ins_*) t=${1#ins_}; k=$(lines_per_order "$t")
		echo "BEGIN;"
		echo "INSERT INTO $t (id, order_id) SELECT g, (g - 1) / $k % 100000 + 1 FROM generate_series(200001, 200000 + $(($2 * 20))) g;"
		echo "ROLLBACK;" ;;
	del_*) printf 'BEGIN;\nDELETE FROM %s WHERE id <= %d;\nROLLBACK;\n' "${1#del_}" $(($2 * 20)) ;;
	# the same with one live lock on an order that no line of the workload belongs to
	lk_*) echo "SELECT acquired FROM reclock_acquire('bt_orders', '100000', 'someone', '1 day');"
		gen "${1#lk_}" "$2"
		echo "SELECT reclock_break('bt_orders', '100000');" ;;
	bulk_locked) echo "UPDATE bt_locked SET v = v + 1 WHERE id BETWEEN 2 AND $(($2 * 20 + 1));" ;;
	bulk_*) echo "UPDATE ${1#bulk_} SET v = v + 1 WHERE id <= $(($2 * 20));" ;;
	esac
}
for w in "${@:-reclock pl floor upd_bt_plain upd_bt_prot upd_bt_noop upd_locked cas cas_plain bulk_bt_plain bulk_bt_prot bulk_bt_noop}"; do
	for w1 in $w; do
		for n in 200 2200; do
			gen "$w1" "$n" > w.sql
			valgrind --tool=callgrind --callgrind-out-file="cg.$w1.$n" "$bin/postgres" --single -D data \
				-c synchronous_commit=off postgres < w.sql > "out.$w1.$n" 2> "vg.$w1.$n"
			eval "c$n=$(grep -o 'Collected : [0-9]*' "vg.$w1.$n" | grep -o '[0-9]*$')"
		done
		case ${w1#lk_} in bulk_* | ins_* | del_*) d=40000 ;; *) d=2000 ;; esac
		printf '%-16s %8d instructions per %s\n' "$w1" $(( (c2200 - c200) / d )) "$([ $d = 40000 ] && echo row || echo unit)"
	done
done
