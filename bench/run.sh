#!/usr/bin/env bash
# reclock bench: each scenario side by side with its comparators in ONE
# cluster, alternating them, REPS repetitions of SECS seconds each; prints
# median TPS and ratios.  Run by `make bench` inside a throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${SECS:-5}
REPS=${REPS:-3}
SCENARIOS=${SCENARIOS:-1 2 3 4 5 6 7}   # which sections to run
want() { case " $SCENARIOS " in *" $1 "*) return 0;; esac; return 1; }
DB=reclock_bench
out=$(mktemp -d)
psql -X -q -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f setup.sql >/dev/null 2>&1

# tps SCRIPT CLIENTS [PGOPTIONS] -> prints the TPS of one run
tps() {
	PGOPTIONS="${3:-}" pgbench -n -M simple -c "$2" -j "$(( $2 < 2 ? 1 : 2 ))" -T "$SECS" -f "$1" "$DB" 2>&1 |
		awk '/^tps = / { print $3 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# compare NAME CLIENTS OPTIONS SCRIPT... -> median TPS per script, alternating
compare() {
	local name=$1 clients=$2 opts=$3; shift 3
	local s r
	for r in $(seq "$REPS"); do
		for s in "$@"; do tps "$s" "$clients" "$opts" >> "$out/$name.$s"; done
	done
	for s in "$@"; do printf '%s %s\n' "$s" "$(median < "$out/$name.$s")"; done > "$out/$name"
}
get() { awk -v s="$2" '$1 == s { print $2 }' "$out/$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "reclock bench: $(date -u +%Y-%m-%d), $(nproc) cores, $(psql -X -At -c 'SHOW server_version'), ${REPS}x${SECS}s per figure, median"
echo

if want 1; then
echo "1. acquire+release cycle, random rows of 100 000 (1 client)"
printf '%-22s %10s %10s %10s %10s | %8s %8s %8s\n' synchronous_commit reclock plpgsql advisory floor 'r/plpgsql' 'r/floor' 'r/advis'
for sc in on off; do
	compare "cycle_$sc" 1 "-c synchronous_commit=$sc" cycle_reclock.sql cycle_plpgsql.sql cycle_advisory.sql cycle_floor.sql
	r=$(get "cycle_$sc" cycle_reclock.sql); p=$(get "cycle_$sc" cycle_plpgsql.sql)
	a=$(get "cycle_$sc" cycle_advisory.sql); f=$(get "cycle_$sc" cycle_floor.sql)
	printf '%-22s %10.0f %10.0f %10.0f %10.0f | %8s %8s %8s\n' "$sc" "$r" "$p" "$a" "$f" \
		"$(ratio "$r" "$p")" "$(ratio "$r" "$f")" "$(ratio "$r" "$a")"
done
echo
fi

if want 2; then
echo "2. contended acquire: 8 clients, 16 hot rows (zipfian), synchronous_commit=off"
f0=$(psql -X -At -d "$DB" -c "SELECT last_value FROM reclock_fence_seq")
PGOPTIONS="-c synchronous_commit=off" pgbench -n -M simple -c 8 -j 2 -T "$SECS" -f contended.sql \
	-l --log-prefix="$out/lat" "$DB" > "$out/cont.txt" 2>&1
f1=$(psql -X -At -d "$DB" -c "SELECT last_value FROM reclock_fence_seq")
cat "$out"/lat.* 2>/dev/null | grep -v '^$' | awk '{ print $3 }' | sort -n > "$out/cont.lat" || true
n=$(wc -l < "$out/cont.lat")
att=$(awk '/^tps = / { printf "%.0f", $3 }' "$out/cont.txt")
p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 { print $1 / 1000; exit }' "$out/cont.lat")
p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 { print $1 / 1000; exit }' "$out/cont.lat")
granted=$((f1 - f0))
echo "attempts/s $att, attempts $n, granted $granted ($(awk -v g="$granted" -v n="$n" 'BEGIN { printf "%.1f", 100 * g / n }') %), p50 ${p50} ms, p99 ${p99} ms"
echo
fi

if want 3; then
echo "3. guard overhead: UPDATE by primary key, protected vs unprotected (and, for scale, a no-op C row trigger)"
printf '%-26s %8s %10s %10s %8s %10s %8s\n' 'live locks' clients unprotected protected ratio 'no-op trg' ratio
for locked in none 10pct; do
	if [ "$locked" = 10pct ]; then
		psql -X -q -d "$DB" -c "INSERT INTO bench_tokens SELECT g, (reclock_acquire('bt_prot', g::text, 'writer', '1 day')).token FROM generate_series(1, 100000, 10) g" \
			-c "INSERT INTO bench_tokens SELECT id, NULL FROM bt_plain WHERE id % 10 <> 1" -c "ANALYZE bench_tokens" >/dev/null
	else
		psql -X -q -d "$DB" -c "INSERT INTO bench_tokens SELECT id, NULL FROM bt_plain" -c "ANALYZE bench_tokens" >/dev/null
	fi
	for c in 1 2 8; do
		compare "guard_${locked}_$c" "$c" "" update_plain.sql update_prot.sql update_noop.sql
		u=$(get "guard_${locked}_$c" update_plain.sql); p=$(get "guard_${locked}_$c" update_prot.sql)
		n=$(get "guard_${locked}_$c" update_noop.sql)
		printf '%-26s %8s %10.0f %10.0f %8s %10.0f %8s\n' "$([ "$locked" = none ] && echo 'none' || echo '10 % of rows (own tokens)')" "$c" "$u" "$p" "$(ratio "$p" "$u")" "$n" "$(ratio "$n" "$u")"
	done
	# end the writers' locks, so that later scenarios find bt_prot free
	psql -X -q -d "$DB" -c "SELECT count(reclock_break('bt_prot', id::text)) FROM bench_tokens WHERE token IS NOT NULL" \
		-c "TRUNCATE bench_tokens" >/dev/null
done
echo
fi

if want 4; then
echo "4. CAS check+swap vs plain UPDATE (1 client)"
psql -X -q -d "$DB" -c "UPDATE bt_plain SET v = 1" -c "VACUUM bt_plain" >/dev/null
compare cas 1 "" cas_swap.sql cas_plain.sql
c=$(get cas cas_swap.sql); u=$(get cas cas_plain.sql)
printf 'reclock_cas %.0f tps, UPDATE %.0f tps, ratio %s\n' "$c" "$u" "$(ratio "$c" "$u")"
echo
fi

if want 6; then
echo "6. change notices on vs off (synchronous_commit=off)"
printf '%-42s %8s %10s %10s %8s\n' scenario clients off on ratio
for c in 1 8; do
	compare "notify_cycle_$c" "$c" "-c synchronous_commit=off" cycle_reclock.sql cycle_notify.sql
	f=$(get "notify_cycle_$c" cycle_reclock.sql); n=$(get "notify_cycle_$c" cycle_notify.sql)
	printf '%-42s %8s %10.0f %10.0f %8s\n' 'acquire+release cycle' "$c" "$f" "$n" "$(ratio "$n" "$f")"
	compare "notify_update_$c" "$c" "-c synchronous_commit=off" update_prot_quiet.sql update_prot_notify.sql
	f=$(get "notify_update_$c" update_prot_quiet.sql); n=$(get "notify_update_$c" update_prot_notify.sql)
	printf '%-42s %8s %10.0f %10.0f %8s\n' 'guarded UPDATE by primary key (no lock)' "$c" "$f" "$n" "$(ratio "$n" "$f")"
done
echo
fi

if want 7; then
echo "7. documents: UPDATE of one line by key (10 lines per order), child guard vs row guard vs unprotected, synchronous_commit=off"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f setup_children.sql >/dev/null 2>&1
printf '%8s %10s %10s %10s %8s %8s\n' clients child 'row guard' unprotected 'c/row' 'c/unpr'
for c in 1 2; do
	compare "lines_$c" "$c" "-c synchronous_commit=off" update_line_child.sql update_line_row.sql update_line_plain.sql
	k=$(get "lines_$c" update_line_child.sql); r=$(get "lines_$c" update_line_row.sql); u=$(get "lines_$c" update_line_plain.sql)
	printf '%8s %10.0f %10.0f %10.0f %8s %8s\n' "$c" "$k" "$r" "$u" "$(ratio "$k" "$r")" "$(ratio "$k" "$u")"
done
echo
fi

if want 5; then
echo "5. scale"
lat() {  # p99 latency (ms) of acquire_only.sql, 1 client
	rm -f "$out"/acq.*
	pgbench -n -M simple -c 1 -T "$SECS" -f acquire_only.sql -l --log-prefix="$out/acq" "$DB" >/dev/null 2>&1
	cat "$out"/acq.* | awk '{ print $3 }' | sort -n | awk '{ a[NR] = $1 } END { printf "p50 %.3f ms, p99 %.3f ms", a[int(NR * 0.5) + 1] / 1000, a[int(NR * 0.99) + 1] / 1000 }'
}
fill() {  # N live locks on another table, written straight into the store
	psql -X -q -d "$DB" -c "DELETE FROM reclock_lock_store" -c "DELETE FROM reclock_token_store" \
		-c "INSERT INTO reclock_lock_store SELECT 'floor_t'::regclass, g::text, 'filler', 10, nextval('reclock_fence_seq'), now(), now() + '1 day' FROM generate_series(1, $1) g" \
		-c "VACUUM ANALYZE reclock_lock_store" >/dev/null
}
fill 1000;    l1k=$(lat)
fill 1000000; l1m=$(lat)
echo "acquire with 1 000 live locks:     $l1k"
echo "acquire with 1 000 000 live locks: $l1m"
psql -X -q -d "$DB" -c "UPDATE reclock_lock_store SET expires_at = now() - '1 s'::interval" >/dev/null
echo "reclock_sweep() of 1 000 000 dead locks: $(psql -X -At -d "$DB" -c '\timing on' -c 'SELECT reclock_sweep()' | awk '/^Time/ { print $2, $3 }') ($(psql -X -At -d "$DB" -c 'SELECT count(*) FROM reclock_lock_store') left)"
psql -X -q -d "$DB" -c "CREATE TABLE big_plain AS SELECT g AS id, 0 AS v FROM generate_series(1, 1000000) g" \
	-c "ALTER TABLE big_plain ADD PRIMARY KEY (id)" \
	-c "CREATE TABLE big_prot AS SELECT * FROM big_plain" -c "ALTER TABLE big_prot ADD PRIMARY KEY (id)" \
	-c "SELECT reclock_protect('big_prot')" \
	-c "CREATE TABLE big_noop AS SELECT * FROM big_plain" -c "ALTER TABLE big_noop ADD PRIMARY KEY (id)" \
	-c "CREATE TRIGGER noop BEFORE UPDATE ON big_noop FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()" \
	-c "VACUUM ANALYZE big_plain, big_prot, big_noop" >/dev/null
for t in big_plain big_prot big_noop big_plain big_prot big_noop big_plain big_prot big_noop; do
	psql -X -At -d "$DB" -c '\timing on' -c 'BEGIN' -c "UPDATE $t SET v = v + 1" \
		-c "SELECT 'locks ' || count(*) FROM pg_locks WHERE pid = pg_backend_pid()" -c 'COMMIT' |
		awk -v t="$t" '/^Time/ { ms = $2 } /^locks/ { l = $2 } /^UPDATE/ { u = $2 } END { }
			/^Time/ && ++n == 2 { print t, ms } /^locks/ { print t "_locks", l }' >> "$out/big"
	psql -X -q -d "$DB" -c "VACUUM $t" >/dev/null
done
bp=$(awk '$1 == "big_plain" { print $2 }' "$out/big" | median)
bq=$(awk '$1 == "big_prot" { print $2 }' "$out/big" | median)
bn=$(awk '$1 == "big_noop" { print $2 }' "$out/big" | median)
echo "1 000 000-row UPDATE (median of 3): unprotected $bp ms, protected $bq ms, ratio $(ratio "$bq" "$bp"); with a no-op C row trigger instead $bn ms, ratio $(ratio "$bn" "$bp")"
echo "pg_locks rows of the backend during it: $(awk '$1 == "big_plain_locks" { print $2; exit }' "$out/big") unprotected, $(awk '$1 == "big_prot_locks" { print $2; exit }' "$out/big") protected"
fi
rm -rf "$out"
