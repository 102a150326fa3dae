#!/usr/bin/env bash
# A bulk write of a million children (not part of make test: a few minutes).
# UPDATE of 1 000 000 lines in one transaction, under 1 000 orders and under
# 1 000 000 orders, on a child table (reclock_protect(..., parent => ...)),
# side by side with the same table under the row guard only: completes (no
# "out of shared memory"), the backend's pg_locks rows, its memory
# (pg_backend_memory_contexts, and max resident size from
# log_statement_stats), and the time (a time: noisy on a shared machine).
# Runs against the cluster that PGHOST/PGPORT name, as a superuser.
#   bench/children_million.sh [ROUNDS]     (default 1)
set -euo pipefail
ROUNDS=${1:-1}
DB=reclock_million
psql -X -q -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION reclock;
CREATE TABLE m_orders1k (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
CREATE TABLE m_orders1m (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO m_orders1k SELECT generate_series(1, 1000);
INSERT INTO m_orders1m SELECT generate_series(1, 1000000);
-- 1 000 lines per order, and 1 line per order; child guard, and row guard only
CREATE TABLE m_lines1k (id int PRIMARY KEY, order_id int NOT NULL REFERENCES m_orders1k, v int NOT NULL DEFAULT 0);
INSERT INTO m_lines1k (id, order_id) SELECT g, (g - 1) / 1000 + 1 FROM generate_series(1, 1000000) g;
CREATE INDEX ON m_lines1k (order_id);
CREATE TABLE m_lines1k_row (LIKE m_lines1k INCLUDING ALL);
ALTER TABLE m_lines1k_row ADD FOREIGN KEY (order_id) REFERENCES m_orders1k;
INSERT INTO m_lines1k_row SELECT * FROM m_lines1k;
CREATE TABLE m_lines1 (id int PRIMARY KEY, order_id int NOT NULL REFERENCES m_orders1m, v int NOT NULL DEFAULT 0);
INSERT INTO m_lines1 (id, order_id) SELECT g, g FROM generate_series(1, 1000000) g;
CREATE INDEX ON m_lines1 (order_id);
CREATE TABLE m_lines1_row (LIKE m_lines1 INCLUDING ALL);
ALTER TABLE m_lines1_row ADD FOREIGN KEY (order_id) REFERENCES m_orders1m;
INSERT INTO m_lines1_row SELECT * FROM m_lines1;
SELECT reclock_protect('m_lines1k', parent => 'm_orders1k');
SELECT reclock_protect('m_lines1', parent => 'm_orders1m');
SELECT reclock_protect('m_lines1k_row');
SELECT reclock_protect('m_lines1_row');
-- a live lock on an order none of the updated lines belongs to
INSERT INTO m_orders1k VALUES (1001);
INSERT INTO m_orders1m VALUES (1000001);
SELECT acquired FROM reclock_acquire('m_orders1k', '1001', 'someone', '1 day');
SELECT acquired FROM reclock_acquire('m_orders1m', '1000001', 'someone', '1 day');
VACUUM ANALYZE;
CHECKPOINT;
SQL

# run TABLE [WHERE] -> one line: time, pg_locks rows, memory after the UPDATE (same transaction)
run() {
	psql -X -At -v ON_ERROR_STOP=1 -d "$DB" 2>&1 <<SQL | awk -v t="$1${2:+ ($2)}" '
		/^Time: / && ++n == 1 { ms = $2 }
		/max resident size/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/ && $(i+1) ~ /^kB/) { rss = $i; break } }
		/^locks / { l = $2 } /^ctx / { c = $2 } /^cache / { k = $2 }
		/ERROR/ { err = err $0 }
		END { printf "%-34s %10.0f ms  pg_locks %3s  memory contexts %6.1f MB  parent cache %6.1f MB  max RSS %7.1f MB %s\n", t, ms, l, c / 1048576, k / 1048576, rss / 1024, err }'
BEGIN;
SET LOCAL client_min_messages = log;
\timing on
UPDATE $1 SET v = v + 1 ${2:+WHERE $2};
\timing off
SET LOCAL log_statement_stats = on;
SELECT 1;
SET LOCAL log_statement_stats = off;
SET LOCAL client_min_messages = notice;
SELECT 'locks ' || count(*) FROM pg_locks WHERE pid = pg_backend_pid();
SELECT 'ctx ' || sum(total_bytes) FROM pg_backend_memory_contexts;
SELECT 'cache ' || coalesce(sum(total_bytes), 0) FROM pg_backend_memory_contexts WHERE name = 'reclock parent rows';
COMMIT;
SQL
	psql -X -q -d "$DB" -c "VACUUM $1" -c CHECKPOINT
}
echo "reclock children_million: $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, $(psql -X -At -c 'SHOW server_version')"
for r in $(seq "$ROUNDS"); do
	for t in m_lines1k m_lines1k_row m_lines1 m_lines1_row; do run $t; done
done
# the parent cache at its cap (65 536 parents) and just after it started again
run m_lines1 "id <= 65536"
run m_lines1 "id <= 65537"
