#!/usr/bin/env bash
# Fuzz reclock's functions with sqlsmith, as an unprivileged role, for a
# bounded number of random queries (FUZZ_QUERIES, default 10000).  Errors are
# expected (random SQL); a crashed backend is not: sqlsmith loses its
# connection and the server's statistics are reset by the crash recovery.
# Runs inside pg_virtualenv.
set -euo pipefail
command -v sqlsmith >/dev/null || { echo "fuzz: sqlsmith is missing (make test installs it)"; exit 1; }
n=${FUZZ_QUERIES:-10000}
db=reclock_fuzz
psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS regress_fuzz" -c "CREATE DATABASE $db" 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION reclock;
CREATE TABLE orders (id int PRIMARY KEY, qty int, note text);
INSERT INTO orders SELECT g, g, 'note ' || g FROM generate_series(1, 50) g;
CREATE TABLE lines (order_id int, line_no int, sku text, PRIMARY KEY (order_id, line_no));
INSERT INTO lines SELECT g % 10, g, 'sku' || g FROM generate_series(1, 50) g;
SELECT reclock_protect('orders');
SELECT reclock_protect('lines', true);
SELECT reclock_notify('orders');
-- a child table of orders (documents): its writes go through the child guard
CREATE TABLE items (id int PRIMARY KEY, order_id int REFERENCES orders, qty int);
INSERT INTO items SELECT g, 1 + g % 20, g FROM generate_series(1, 60) g;
SELECT reclock_protect('items', parent => 'orders');
SELECT reclock_acquire('orders', g::text, 'holder' || g) FROM generate_series(1, 10) g;
CREATE ROLE regress_fuzz LOGIN PASSWORD 'fuzz-pw';
SELECT format('ALTER DATABASE %I SET track_functions = ''all''', current_database()) \gexec
GRANT SELECT, UPDATE, DELETE ON orders, lines TO regress_fuzz;
GRANT SELECT, INSERT, UPDATE, DELETE ON items TO regress_fuzz;
SQL
marker=$(psql -X -At -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
out=$(mktemp)
rc=0
timeout 600 sqlsmith --target="host=${PGHOST:-localhost} port=$PGPORT dbname=$db user=regress_fuzz password=fuzz-pw" \
	--seed=20261123 --max-queries="$n" --exclude-catalog >"$out" 2>&1 || rc=$?
after=$(psql -X -At -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
calls=$(psql -X -At -d "$db" -c "SELECT coalesce(string_agg(funcname || ' ' || calls, ', ' ORDER BY funcname), 'none') FROM pg_stat_user_functions WHERE funcname LIKE 'reclock%'")
tail -n 25 "$out" | grep -v '^$' | sed 's/^/  /' | tail -n 12
if [ "$rc" != 0 ] || grep -qi "server closed the connection\|terminated abnormally\|connection.*lost" "$out" || [ "$after" -lt "$marker" ]; then
	echo "fuzz: a backend crashed (sqlsmith exit $rc)"; rm -f "$out"; exit 1
fi
echo "fuzz: calls of reclock's functions by sqlsmith: $calls"
# sqlsmith rarely builds calls of functions taking regclass, jsonb or uuid:
# call every function with random odd arguments too, as the same role
calls_n=${FUZZ_CALLS:-5000}
PGPASSWORD=fuzz-pw PGOPTIONS="-c fuzz.n=$calls_n" psql -X -q -h "${PGHOST:-localhost}" -U regress_fuzz -d "$db" \
	-f "$(dirname "$0")/calls.sql" 2>&1 | grep -v '^$' | sed 's/^psql:[^ ]* //' || { echo "fuzz: the session ended abnormally"; exit 1; }
after=$(psql -X -At -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
[ "$after" -ge "$marker" ] || { echo "fuzz: a backend crashed (statistics were reset)"; exit 1; }
echo "fuzz: $n random queries as an unprivileged role, 0 backend crashes"
rm -f "$out"
