#!/usr/bin/env bash
# Adding a node (review3_addnode, c6-addnode): a third worker, started here,
# is added to a cluster that already has protected tables
# (citus_add_node, replicate_reference_tables), after a protected
# distributed table was moved to another schema and renamed (and its schema
# renamed).  Citus copies the registry's reference placement to the new
# node by binary COPY (the coordinator's OIDs); the new node must still
# judge writes by the same locks:
#  - a protected reference table: its placement there refuses a write of a
#    locked row without the token (directly), lets a free row's write through
#    (routed, and directly), acquire/release of a row work with the node in;
#  - a shard of a protected distributed table moved there
#    (citus_move_shard_placement) with a live lock: a write without the token
#    refused (routed and directly), with it passes; valid, refresh, release,
#    a new acquire (by an application role) and break of rows there;
#  - a rebalance moves another shard there: its rows are guarded as well.
# The node is drained and removed at the end.
. "$(dirname "$0")/lib.sh"
n3=3
RC_NODES+=(worker3)
port=$(( ${RC_PORT[2]} + 1 ))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
RC_PORT+=("$port")
stop3() {
  [ -f "$RC_DIR/worker3/postmaster.pid" ] &&
    "${RC_RUN[@]}" "$RC_BINDIR/pg_ctl" -D "$RC_DIR/worker3" -m immediate stop >/dev/null 2>&1 3>&- || true
}
trap stop3 EXIT
owner=$(stat -c %U "$RC_DIR/worker1")
mkdir -p "$RC_DIR/worker3" && chown "$owner" "$RC_DIR/worker3"
"${RC_RUN[@]}" "$RC_BINDIR/initdb" -D "$RC_DIR/worker3" -A trust -U postgres --no-sync >/dev/null
cat >>"$RC_DIR/worker3/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RC_DIR'
shared_preload_libraries = 'citus,reclock'
max_prepared_transactions = 20
wal_level = logical
fsync = off
max_connections = 60
EOF
"${RC_RUN[@]}" "$RC_BINDIR/pg_ctl" -D "$RC_DIR/worker3" -l "$RC_DIR/worker3.log" -w start >/dev/null 3>&-
on $n3 -d postgres -c 'CREATE DATABASE reclock_citus' >/dev/null
on $n3 -c 'CREATE EXTENSION citus' >/dev/null

# the tables, protected before the node comes
C -c "CREATE TABLE an (id int PRIMARY KEY, v text)" \
  -c "SELECT create_distributed_table('an', 'id', shard_count => 6, colocate_with => 'none')" \
  -c "INSERT INTO an SELECT g, 'a' || g FROM generate_series(1, 60) g" \
  -c "CREATE TABLE anr (id int PRIMARY KEY, v text)" \
  -c "SELECT create_reference_table('anr')" \
  -c "INSERT INTO anr SELECT g, 'r' || g FROM generate_series(1, 5) g" \
  -c "SELECT reclock_protect('an')" -c "SELECT reclock_protect('anr')" \
  -c "CREATE ROLE an_app LOGIN" -c "GRANT SELECT, UPDATE ON an, anr TO an_app" >/dev/null
# renamed, moved to another schema, that schema renamed (Citus sends the DDL to the workers)
C -c "CREATE SCHEMA an_s" -c "GRANT USAGE ON SCHEMA an_s TO an_app" -c "ALTER TABLE an SET SCHEMA an_s" \
  -c "ALTER TABLE an_s.an RENAME TO an2" -c "ALTER SCHEMA an_s RENAME TO an_t" >/dev/null
t=an_t.an2
# rows of the shard that moves (row 1's) and of another shard
shard=$(C -c "SELECT get_shard_id_for_distribution_column('$t', 1)")
read -r a b c <<<"$(C -c "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM $t
   WHERE get_shard_id_for_distribution_column('$t', id) = $shard ORDER BY id LIMIT 3) s")"
read -r ta fa <<<"$(C -F ' ' -c "SELECT token, fence FROM reclock_acquire('$t', '$a', 'alice', '1 hour')")"
read -r tr <<<"$(C -c "SELECT token FROM reclock_acquire('anr', '1', 'alice', '1 hour')")"
isnt "$ta" "" "row $a of the distributed table locked before the node comes"

# --- the node comes
C -c "SELECT 1 FROM citus_add_node('127.0.0.1', $port)" >/dev/null
is "$(C -c "SELECT replicate_reference_tables('block_writes')")" "" "replicate_reference_tables() copied the reference tables to the new node"
is "$(on $n3 -c "SELECT count(*) FROM reclock_citus_tables")" "$(C -c "SELECT count(*) FROM reclock_citus_tables")" "the registry's placement is on the new node"
echo "# the registry there (binary copy: the coordinator's OIDs): $(on $n3 -c "SELECT string_agg(tbl::oid::text || '=' || coalesce(tbl::oid::regclass::text, '?'), ' ') FROM reclock_citus_tables")"

# --- the reference table's placement on the new node
rshard=$(C -c "SELECT format('anr_%s', shardid) FROM pg_dist_shard WHERE logicalrelid = 'anr'::regclass")
# a direct write of row $1 on the new node's placement, with token $2 (or none)
rdirect() {
  on $n3 -c "SET lock_timeout = '1s'" -c "BEGIN" -c "SET LOCAL reclock.token = '${2:-}'" \
    -c "UPDATE $rshard SET v = 'd' WHERE id = $1" -c "COMMIT"
}
is "$(rdirect 1)" refused "reference: a direct write of a locked row on the new node's placement is refused"
is "$(rdirect 2)" "" "reference: a direct write of a free row on the new node's placement passes"
is "$(rdirect 1 "$tr")" "" "reference: with the token, a direct write of the locked row on the new node passes"
is "$(C -c "UPDATE anr SET v = 'routed' WHERE id = 2")" "" "reference: a routed write of a free row passes (every placement, the new one too)"
is "$(C -c "UPDATE anr SET v = 'routed' WHERE id = 1")" refused "reference: a routed write of the locked row is refused"
read -r acq tr3 <<<"$(C -F ' ' -c "SELECT acquired, token FROM reclock_acquire('anr', '3', 'bob', '1 hour')")"
is "$acq" t "reference: an acquire with the new node in the cluster"
is "$(rdirect 3)" refused "reference: the new grant holds on the new node's placement"
is "$(C -c "SELECT reclock_valid('$tr3')")" t "reference: valid"
is "$(C -c "SELECT reclock_release('$tr3')")" t "reference: release"
is "$(rdirect 3)" "" "reference: after the release, a direct write on the new node passes"
# the same role and holder extend a grant: decided alike on every placement
# (the role is kept by name: review3_addnode saw node 4 decide otherwise)
rn=$(C -c "SELECT 'anr'::regclass::oid")
is "$(PGOPTIONS="-c synchronous_commit=local -c role=an_app" C -c "SELECT acquired FROM reclock_acquire('anr', '4', 'carol', '1 minute')")" t "reference: an application role acquires row 4 (1 minute)"
is "$(PGOPTIONS="-c synchronous_commit=local -c role=an_app" C -c "SELECT acquired FROM reclock_acquire('anr', '4', 'carol', '1 hour')")" t "reference: the same role and holder extend it (1 hour)"
is "$(on $n3 -c "SELECT expires_at > now() + interval '30 minutes' FROM reclock_store_${rn}_locks WHERE key = '4'")" t "reference: the extension holds on the new node's placement too"
is "$(rdirect 4)" refused "reference: the extended grant holds on the new node's placement"

# --- a shard of the distributed table moved to the new node, with a live lock
src=$(C -c "SELECT nodeport FROM pg_dist_placement JOIN pg_dist_node USING (groupid) WHERE shardid = $shard")
is "$(C -c "SELECT citus_move_shard_placement($shard, '127.0.0.1', $src, '127.0.0.1', $port, shard_transfer_mode => 'block_writes')")" "" "the shard of row $a moved to the new node"
write() {
  if [ -n "${2:-}" ]; then
    C -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = local" -c "SET LOCAL reclock.token = '$2'" \
      -c "UPDATE $t SET v = 'w' WHERE id = $1" -c "COMMIT" | tr '\n' ' ' | sed 's/ $//'
  else
    C -c "UPDATE $t SET v = 'w' WHERE id = $1"
  fi
}
# a direct write of row $1 of the table on the new node, with token $2 (or none)
direct() {
  on $n3 -c "SET lock_timeout = '1s'" -c "BEGIN" -c "SET LOCAL reclock.token = '${2:-}'" \
    -c "UPDATE an_t.an2_$(C -c "SELECT get_shard_id_for_distribution_column('$t', $1)") SET v = 'd' WHERE id = $1" -c "COMMIT"
}
is "$(write "$a")" refused "moved shard: a routed write of locked row $a without the token is refused"
is "$(direct "$a")" refused "moved shard: a direct write of row $a on the new node without the token is refused"
is "$(write "$a" "$ta")" "" "moved shard: with the token, a routed write passes"
is "$(direct "$a" "$ta")" "" "moved shard: with the token, a direct write on the new node passes"
is "$(write "$b")" "" "moved shard: a routed write of free row $b passes"
is "$(C -c "SELECT reclock_valid('$ta')")" t "moved shard: valid"
is "$(C -c "SELECT reclock_refresh('$ta', '2 hours') > now() + interval '90 minutes'")" t "moved shard: refresh"
is "$(C -c "SELECT acquired FROM reclock_acquire('$t', '$a', 'bob')")" f "moved shard: another holder is refused"
read -r acq tb fb <<<"$(PGOPTIONS="-c synchronous_commit=local -c role=an_app" C -F ' ' -c "SELECT acquired, token, fence FROM reclock_acquire('$t', '$b', 'carol', '1 hour')")"
is "$acq" t "moved shard: an application role acquires row $b there"
is "$(C -c "SELECT fence > $fa FROM reclock_store_$(C -c "SELECT tbl::oid FROM reclock_citus_tables WHERE tbl = '$t'::regclass")_locks WHERE dist = $b")" t "moved shard: its grant is in the store shard on the new node, with a larger fence"
is "$(direct "$b")" refused "moved shard: the new grant holds on the new node"
is "$(direct "$b" "$tb")" "" "moved shard: with its token a direct write passes"
is "$(C -c "SELECT reclock_release('$tb')")" t "moved shard: release"
is "$(direct "$b")" "" "moved shard: after the release, a direct write passes"
read -r acq tc <<<"$(C -F ' ' -c "SELECT acquired, token FROM reclock_acquire('$t', '$c', 'dora', '1 hour')")"
is "$acq" t "moved shard: acquire row $c"
is "$(C -c "SELECT reclock_break('$t', '$c')")" t "moved shard: break"
is "$(direct "$c")" "" "moved shard: after the break, a direct write passes"
is "$(C -c "SELECT reclock_valid('$tc')")" f "moved shard: the broken grant's token is not valid"

# --- a rebalance moves another shard of the table to the new node
is "$(C -c "SELECT rebalance_table_shards('$t', shard_transfer_mode => 'block_writes')")" "" "rebalance_table_shards()"
other=$(C -c "SELECT min(shardid) FROM pg_dist_shard JOIN pg_dist_placement USING (shardid) JOIN pg_dist_node n USING (groupid)
               WHERE logicalrelid = '$t'::regclass AND n.nodeport = $port AND shardid <> $shard")
isnt "$other" "" "the rebalance moved another shard to the new node"
d=$(C -c "SELECT min(id) FROM $t WHERE get_shard_id_for_distribution_column('$t', id) = ${other:-0}")
read -r td <<<"$(C -c "SELECT token FROM reclock_acquire('$t', '$d', 'erin', '1 hour')")"
is "$(direct "$d")" refused "rebalanced shard: a direct write of locked row $d on the new node without the token is refused"
is "$(write "$d")" refused "rebalanced shard: a routed write without the token is refused"
is "$(direct "$d" "$td")" "" "rebalanced shard: with the token it passes"
is "$(direct "$a")" refused "the first shard's lock still holds"

# --- a guard made by hand on a table co-located with it, naming its stores:
# the stores are not that table's, and the table's own are not found either
# (which one is meant is never guessed: refused, not let through)
n=$(C -c "SELECT '$t'::regclass::oid")
C -c "CREATE TABLE anx (id int PRIMARY KEY, v text)" \
  -c "SELECT create_distributed_table('anx', 'id', colocate_with => '$t')" \
  -c "INSERT INTO anx SELECT g, 'x' || g FROM generate_series(1, 60) g" \
  -c "SET citus.enable_unsafe_triggers = on" \
  -c "CREATE TRIGGER reclock_guard BEFORE UPDATE ON anx FOR EACH ROW EXECUTE FUNCTION reclock_guard('stores=reclock_store_$n')" >/dev/null
xshard=$(C -c "SELECT format('anx_%s', get_shard_id_for_distribution_column('anx', $b))")
got=$(on $n3 -c "SELECT reclock_acquired FROM reclock_citus_grant('$xshard'::regclass, '$b', 'mallory', 3600000000, 999999, decode(repeat('ab', 32), 'hex'), false, '{}')")
is "${got%%:*}" ERROR "a hand-made guard on a co-located table: no grant through it into the table's store ($got)"
is "$(C -c "SELECT count(*) FROM reclock_store_${n}_locks WHERE holder = 'mallory'")" 0 "a hand-made guard: no lock row of the table written"
got=$(direct "$b")
# (review7_guard: a hand-made guard calls reclock_guard, which the workers
# believe for no table's stores; only reclock_protect can make a guard with
# reclock_guard_citus)
is "$got" "" "a hand-made guard naming the table's stores too, believed by no one: the table's own writes pass"
C -c "SET citus.enable_unsafe_triggers = on" -c "DROP TRIGGER reclock_guard ON anx" >/dev/null
is "$(direct "$b")" "" "the hand-made guard dropped: the table's writes pass again"
is "$(direct "$a")" refused "the hand-made guard dropped: its locked row refused again"

# --- the node goes again
C -c "SELECT reclock_release('$ta')" -c "SELECT reclock_release('$td')" -c "SELECT reclock_release('$tr')" >/dev/null
is "$(C -c "SELECT citus_drain_node('127.0.0.1', $port, shard_transfer_mode => 'block_writes')")" "" "the new node drained"
is "$(C -c "SELECT citus_remove_node('127.0.0.1', $port)")" "" "the new node removed"
done_testing
