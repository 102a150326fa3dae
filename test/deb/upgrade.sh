#!/usr/bin/env bash
# in a cluster of pg_virtualenv, with the 1.0 package installed (test/deb):
#   upgrade.sh MAJOR NEW.deb NEWVERSION
set -euo pipefail
major=$1 new=$2 newversion=$3
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
check() { # check WHAT GOT WANTED
  if [ "$2" = "$3" ]; then echo "  ok: $1: $2"; else echo "  FAILED: $1: got '$2', wanted '$3'" >&2; exit 1; fi
}

# as README asks (Presenting tokens): the library loaded at session start
q -c "DO \$\$BEGIN EXECUTE format('ALTER DATABASE %I SET session_preload_libraries = %L', current_database(), 'reclock'); END\$\$"
q -c 'CREATE EXTENSION reclock' \
  -c 'CREATE TABLE orders (id int PRIMARY KEY, qty int)' \
  -c 'INSERT INTO orders VALUES (42, 1)' \
  -c "SELECT reclock_protect('orders')" >/dev/null
check "extension version before" "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'reclock'")" 1.0
tok=$(q -c "SELECT token FROM reclock_acquire('orders', '42', 'alice', '1 hour')")
check "alice's token, 1.0" "$(q -c "SELECT reclock_valid('$tok')")" t
write() { # write QTY [TOKEN]: the UPDATE's outcome
  local presented=""
  [ -z "${2:-}" ] || presented="SELECT set_config('reclock.token', '$2', true);"
  psql -X -q -At -v ON_ERROR_STOP=1 -c "BEGIN; $presented UPDATE orders SET qty = $1 WHERE id = 42; COMMIT;" >/dev/null 2>/tmp/write.err \
    && echo written || { sed -n 's/^ERROR:  \(.*\)/refused: \1/p' /tmp/write.err | head -1; }
}
check "a write with alice's token, 1.0" "$(write 2 "$tok")" written
case "$(write 3)" in refused:*) echo "  ok: a write without the token, 1.0: refused" ;; *) echo "  FAILED: a write without the token was not refused (1.0)" >&2; exit 1 ;; esac

echo "  apt install $(basename "$new") (the server keeps running)"
apt-get install -y -qq "$new" >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
check "package" "$(dpkg-query -W -f='${Version}' postgresql-$major-reclock)" "$newversion-1"
# the new library with the database still on 1.0
check "alice's token, new library, database on 1.0" "$(q -c "SELECT reclock_valid('$tok')")" t
q -c 'ALTER EXTENSION reclock UPDATE'
check "extension version after ALTER EXTENSION reclock UPDATE" "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'reclock'")" "$newversion"
check "alice's lock" "$(q -c "SELECT holder FROM reclock_locks WHERE relation = 'orders'::regclass AND key = '42'")" alice
check "alice's token after the upgrade" "$(q -c "SELECT reclock_valid('$tok')")" t
case "$(write 4)" in refused:*) echo "  ok: a write without the token after the upgrade: $(write 4)" ;; *) echo "  FAILED: a write without the token was not refused after the upgrade" >&2; exit 1 ;; esac
check "a write with alice's token after the upgrade" "$(write 5 "$tok")" written
check "the row" "$(q -c 'SELECT qty FROM orders WHERE id = 42')" 5
check "bob, while alice's lock is live" "$(q -c "SELECT acquired FROM reclock_acquire('orders', '42', 'bob')")" f
check "alice releases with her token" "$(q -c "SELECT reclock_release('$tok')")" t
check "bob, after" "$(q -c "SELECT acquired FROM reclock_acquire('orders', '42', 'bob')")" t
echo "  upgrade from the 1.0 package: passed"
