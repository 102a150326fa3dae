# Shared by test/citus/t/*.sh, which run.sh runs against its cluster (a
# coordinator and two workers), after the regress files and the specs.
# From run.sh: RC_DIR (sockets, data directories coordinator/ worker1/
# worker2/, logs), RC_BINDIR, RC_PORTS (coordinator worker1 worker2),
# RC_AS_USER (how to run pg_ctl: "runuser -u postgres --" as root).
# Output in TAP's style: "ok N - what" or "not ok N - what: got ..., want ...";
# the script exits non-zero if any check failed.  No sleeps: a script waits
# for a state by polling for it (poll), with a bound.
set -u
read -r -a RC_PORT <<<"$RC_PORTS"
RC_NODES=(coordinator worker1 worker2)
read -r -a RC_RUN <<<"${RC_AS_USER:-}"
t_n=0
t_failed=0

# psql on node i (0 = coordinator): one line per row, fields by |; errors on
# stdout too, reclock's refusal as "refused", a lock_timeout as "waited",
# any other as its first line
on() {
  local i=$1; shift
  PGOPTIONS="${PGOPTIONS:--c synchronous_commit=local}" \
    "$RC_BINDIR/psql" -X -At -q -h "$RC_DIR" -p "${RC_PORT[$i]}" -U postgres -d reclock_citus "$@" 2>&1 |
    grep -v '^\(NOTICE\|WARNING\|DETAIL\|HINT\|CONTEXT\|LINE [0-9]*\):\|^ *\^$' |
    sed -e 's/^ERROR:  row .* is locked by .*/refused/' \
        -e 's/^ERROR:  canceling statement due to \(lock\|statement\) timeout$/waited/' || true
}
C() { on 0 "$@"; }

ok() { t_n=$((t_n + 1)); echo "ok $t_n - $1"; }
not_ok() { t_n=$((t_n + 1)); t_failed=$((t_failed + 1)); echo "not ok $t_n - $1"; }
# is GOT WANT WHAT
is() {
  if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got '$1', want '$2'"; fi
}
# one_of GOT "A B ..." WHAT
one_of() {
  case " $2 " in *" $1 "*) ok "$3 ($1)" ;; *) not_ok "$3: got '$1', want one of: $2" ;; esac
}
# isnt GOT UNWANTED WHAT
isnt() {
  if [ "$1" != "$2" ]; then ok "$3 ($1)"; else not_ok "$3: got '$1'"; fi
}
# poll NODE SQL WANT: run SQL on NODE until it prints WANT (at most 60 s);
# non-zero if it never did
poll() {
  local got="" end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ]; do
    got=$(on "$1" -c "$2")
    [ "$got" = "$3" ] && return 0
    sleep 0.1   # the polling interval: the loop waits for the state, not for time
  done
  echo "# poll on node $1 gave up: $2 -> '$got', wanted '$3'"
  return 1
}
# hold_commits: from now on a coordinator commit with synchronous_commit = on
# waits in SyncRep (synchronous_standby_names names a standby that never
# comes; the other sessions here commit with synchronous_commit = local).
# The setting reaches the process that decides (the checkpointer) some time
# after the reload: a probe commit (a write of a plain coordinator table: a
# commit that wrote no WAL does not wait) is retried until it is seen
# waiting, then cancelled (its commit stands).
hold_commits() {
  local i probe state end
  C -c "CREATE TABLE IF NOT EXISTS rc_probe (i int)" \
    -c "ALTER SYSTEM SET synchronous_standby_names = 'reclock_nobody'" -c "SELECT pg_reload_conf()" >/dev/null
  for i in $(seq 100); do
    PGOPTIONS="-c synchronous_commit=on" PGAPPNAME=rc_probe "$RC_BINDIR/psql" -X -q -h "$RC_DIR" -p "${RC_PORT[0]}" \
      -U postgres -d reclock_citus -c "INSERT INTO rc_probe VALUES (1)" >/dev/null 2>&1 3>&- &
    probe=$!
    end=$((SECONDS + 60))
    # until the probe is seen waiting in SyncRep, or it has ended (not held: again)
    while kill -0 $probe 2>/dev/null && [ $SECONDS -lt $end ]; do
      state=$(C -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'rc_probe' AND wait_event = 'SyncRep'")
      if [ "$state" = t ]; then wait $probe; return 0; fi
      sleep 0.1   # the polling interval
    done
    wait $probe
  done
  echo "# synchronous_standby_names never held a commit"
  return 1
}
release_commits() {
  C -c "ALTER SYSTEM RESET synchronous_standby_names" -c "SELECT pg_reload_conf()" >/dev/null
}
# immediate stop and start of node i (a crash of its postmaster's children)
crash_restart() {
  "${RC_RUN[@]}" "$RC_BINDIR/pg_ctl" -D "$RC_DIR/${RC_NODES[$1]}" -m immediate stop >/dev/null 3>&-
  "${RC_RUN[@]}" "$RC_BINDIR/pg_ctl" -D "$RC_DIR/${RC_NODES[$1]}" -l "$RC_DIR/${RC_NODES[$1]}.log" -w start >/dev/null 3>&-  # (no fd of a script to the new postmaster)
}
# the node index (1 or 2) of the worker holding the shard of TABLE's row with distribution value V
node_of() {
  local port
  port=$(C -c "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                WHERE p.shardid = get_shard_id_for_distribution_column('$1', $2)")
  if [ "$port" = "${RC_PORT[1]}" ]; then echo 1; elif [ "$port" = "${RC_PORT[2]}" ]; then echo 2; else echo "?$port"; fi
}
done_testing() {
  echo "1..$t_n"
  [ "$t_failed" = 0 ] || { echo "# $t_failed of $t_n failed"; exit 1; }
}
