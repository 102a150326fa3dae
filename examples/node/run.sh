#!/usr/bin/env bash
# Run the node example against a scratch database (inside pg_virtualenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
psql -X -q -c 'DROP DATABASE IF EXISTS reclock_node' -c 'CREATE DATABASE reclock_node' 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d reclock_node -f "$here/../django/schema.sql" >/dev/null
cd "$here"
[ -d node_modules/pg ] || npm ci --no-audit --no-fund >/dev/null
PGDATABASE=reclock_node node edit_flow.js
