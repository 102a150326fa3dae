#!/usr/bin/env bash
# Stress: 8 holder clients acquire, write with their token and release random
# rows of a 10-row hot table, while 2 rogue clients write without tokens; at
# the same time, documents: 6 holders acquire one or two of 5 hot orders,
# check and write their lines (child rows) with the tokens and release, while
# 2 rogues insert, update, delete and move lines of random orders without
# tokens; for STRESS_SECONDS (default 30).  Then the invariants are checked
# from the audit the test keeps; any violation, or any aborted client, fails
# the run.
# Needs a running server (PGHOST etc.) with wal_level=logical (the history of
# the lock store is read back by logical decoding); run by `make stress` in a
# throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")"
secs=${STRESS_SECONDS:-30}
db=reclock_stress
psql -X -q -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'reclock_stress'" \
  -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f setup.sql >/dev/null
out=$(mktemp -d)
echo "stress: 8 holders + 2 rogues on 10 hot rows, 6 holders + 2 rogues on the lines of 5 hot orders, for ${secs}s"
pgbench -n -M simple -c 8 -j 2 -T "$secs" -f holder.sql "$db" >"$out/holders.log" 2>&1 &
h=$!
pgbench -n -M simple -c 2 -j 1 -T "$secs" -f rogue.sql "$db" >"$out/rogues.log" 2>&1 &
r=$!
pgbench -n -M simple -c 6 -j 2 -T "$secs" --failures-detailed -f doc_holder.sql "$db" >"$out/doc_holders.log" 2>&1 &
dh=$!
pgbench -n -M simple -c 2 -j 1 -T "$secs" -f doc_rogue.sql "$db" >"$out/doc_rogues.log" 2>&1 &
dr=$!
rc=0
wait $h || rc=1
wait $r || rc=1
wait $dh || rc=1
wait $dr || rc=1
for l in holders rogues doc_holders doc_rogues; do
  grep -E "number of transactions actually processed|number of failed|number of deadlock|tps =" "$out/$l.log" | sed "s/^/  $l: /"
done
if [ $rc != 0 ] || grep -q "aborted" "$out"/*.log; then
  echo "stress: a pgbench client failed:"; cat "$out"/*.log; exit 1
fi
psql -X -q -d "$db" -f check.sql | tee "$out/check.out"
if awk -F'|' '/^ violation:/ { gsub(/ /, "", $2); if ($2 != "0") bad = 1 } END { exit bad ? 0 : 1 }' "$out/check.out"; then
  echo "stress: INVARIANT VIOLATED"; exit 1
fi
grep -q "violation" "$out/check.out" || { echo "stress: the check did not run"; exit 1; }
echo "stress: 0 violations"
rm -rf "$out"
