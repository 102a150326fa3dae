#!/usr/bin/env bash
# experiment cluster (in the chroot): cluster.sh start|stop|psql NODE args...
# NODE: 0 coordinator, 1 worker1, 2 worker2.  Fixed dir /tmp/rc2, ports 25432-25434.
set -euo pipefail
bindir=/usr/lib/postgresql/17/bin
dir=/tmp/rc2
ports=(25432 25433 25434)
nodes=(coordinator worker1 worker2)
as=(runuser -u postgres --)
case "$1" in
start)
  if [ ! -d $dir ]; then
    mkdir -p $dir; chown postgres $dir
    for i in 0 1 2; do
      n=${nodes[$i]}
      "${as[@]}" $bindir/initdb -D $dir/$n -A trust -U postgres --no-sync >/dev/null
      cat >>$dir/$n/postgresql.conf <<EOC
port = ${ports[$i]}
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'citus'
max_prepared_transactions = 20
fsync = off
max_connections = 60
log_statement = 'all'
log_line_prefix = '%m [%p] %u %a: '
EOC
    done
    fresh=1
  fi
  for i in 0 1 2; do "${as[@]}" $bindir/pg_ctl -D $dir/${nodes[$i]} -l $dir/${nodes[$i]}.log -w start >/dev/null; done
  if [ -n "${fresh:-}" ]; then
    for i in 0 1 2; do
      $bindir/psql -X -q -h $dir -p ${ports[$i]} -U postgres -d postgres -c 'CREATE DATABASE x'
      $bindir/psql -X -q -h $dir -p ${ports[$i]} -U postgres -d x -c 'CREATE EXTENSION citus' -c 'CREATE EXTENSION reclock'
    done
    $bindir/psql -X -q -h $dir -p ${ports[0]} -U postgres -d x -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" -c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" -c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null
  fi ;;
stop)
  for i in 0 1 2; do [ -f $dir/${nodes[$i]}/postmaster.pid ] && "${as[@]}" $bindir/pg_ctl -D $dir/${nodes[$i]} -m fast stop >/dev/null || true; done ;;
psql)
  i=$2; shift 2
  exec $bindir/psql -X -h $dir -p ${ports[$i]} -U postgres -d x "$@" ;;
esac
