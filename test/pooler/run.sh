#!/usr/bin/env bash
# PgBouncer in transaction mode (2 server connections, and a 1-connection pool
# for the leak test) in front of the throwaway cluster, then node-postgres and
# psycopg2 through it.  Runs inside pg_virtualenv (PGHOST, PGPORT, ...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3   # Debian's, with python3-psycopg2 (not a pyenv one)
for tool in pgbouncer node npm $PY; do
	command -v "$tool" >/dev/null || { echo "pooler: $tool is missing (make test installs it)"; exit 1; }
done
$PY -c "import psycopg2" 2>/dev/null || { echo "pooler: python3-psycopg2 is missing"; exit 1; }

psql -X -q -c 'DROP DATABASE IF EXISTS reclock_pool' -c 'DROP ROLE IF EXISTS app' -c 'DROP ROLE IF EXISTS app_pre' -c 'CREATE DATABASE reclock_pool' 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d reclock_pool -f "$here/setup.sql" >/dev/null

dir=$(mktemp -d /tmp/reclock-pooler.XXXXXX)
port=$((PGPORT + 1000))
cat > "$dir/pgbouncer.ini" <<INI
[databases]
reclock_pool = host=127.0.0.1 port=$PGPORT dbname=reclock_pool user=app password=app-pw pool_size=2
reclock_pool1 = host=127.0.0.1 port=$PGPORT dbname=reclock_pool user=app password=app-pw pool_size=1
reclock_pool_fresh = host=127.0.0.1 port=$PGPORT dbname=reclock_pool user=app password=app-pw pool_size=1
reclock_pool_pre = host=127.0.0.1 port=$PGPORT dbname=reclock_pool user=app_pre password=app-pw pool_size=1
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 100
default_pool_size = 2
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
printf '"app" ""\n"app_pre" ""\n' > "$dir/userlist.txt"
user=$(id -un)
if [ "$(id -u)" = 0 ]; then user=postgres; chown -R postgres "$dir"; fi
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
run pgbouncer -d "$dir/pgbouncer.ini"
trap 'kill "$(cat "$dir/pgbouncer.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1200); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

cd "$here"
[ -d node_modules/pg ] || npm ci --no-audit --no-fund >/dev/null
echo "== pooler: node-postgres through PgBouncer (transaction mode, pool of 2; pgbouncer runs as $user)"
POOL_PORT=$port node pooler.test.js
echo "== pooler: psycopg2 through PgBouncer"
POOL_PORT=$port $PY pooler_psycopg.py
