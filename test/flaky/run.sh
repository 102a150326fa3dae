#!/usr/bin/env bash
# Hunts flaky tests (`make flaky-check`): runs the pg_regress suite and every
# isolation spec FLAKY_RUNS times (default 10) while FLAKY_LOAD processes
# (default: one per CPU) keep the CPUs busy, then the stress test
# FLAKY_STRESS times (default 3); prints how often each test failed and keeps
# the diffs of every failure.  A test that fails even once is a bug -- of
# reclock or of the test -- to fix, never to rerun.
#
# Needs a running server (PGHOST etc.: `make flaky-check` runs it inside
# pg_virtualenv) and a test build of reclock installed; REGRESS_LIST and
# ISOLATION_LIST name the tests (the Makefile passes its own lists).
#   FLAKY_RUNS=20 FLAKY_LOAD=4 make flaky-check
# Exit status: 0 when nothing failed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${FLAKY_RUNS:-10}
load=${FLAKY_LOAD:-$(nproc)}
stress_runs=${FLAKY_STRESS:-3}
tap_runs=${FLAKY_TAP:-2}
regress=${REGRESS_LIST:?REGRESS_LIST names the pg_regress tests}
isolation=${ISOLATION_LIST:?ISOLATION_LIST names the isolation specs}
out=${FLAKY_OUT:-$(mktemp -d /tmp/reclock-flaky.XXXXXX)}
mkdir -p "$out"

burners=()
stop_burners() { [ ${#burners[@]} -gt 0 ] && kill "${burners[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_burners EXIT
for _ in $(seq "$load"); do
  ( while :; do :; done ) &
  burners+=($!)
done

declare -A fails
# one line per test of a pg_regress / pg_isolation_regress run: "name status"
# (15: "test acquire ... ok 12 ms"; 16+: "ok 1 - acquire 12 ms")
results() {
  sed -nE 's/^test +([A-Za-z0-9_]+) +\.\.\. +(ok|FAILED|failed).*/\1 \2/p;
           s/^(not ok|ok) +[0-9]+ +[-+] +([A-Za-z0-9_]+).*/\2 \1/p' "$1"
}
count() { # log, kind, run, diffs
  local name status seen=0
  while read -r name status; do
    seen=$((seen + 1))
    case "$status" in
      ok) fails[$2:$name]=$(( ${fails[$2:$name]:-0} )) ;;
      *) fails[$2:$name]=$(( ${fails[$2:$name]:-0} + 1 ))
         [ -f "$4" ] && cp "$4" "$out/run$3-$2.diffs" ;;
    esac
  done < <(results "$1")
  if [ "$seen" = 0 ]; then
    fails[$2:did-not-run]=$(( ${fails[$2:did-not-run]:-0} + 1 ))
    cp "$1" "$out/run$3-$2.log"
  fi
}

echo "flaky-check: $runs runs of pg_regress ($(wc -w <<<"$regress") tests) and the isolation tester ($(wc -w <<<"$isolation") specs), $load CPU burners; diffs in $out"
for run in $(seq "$runs"); do
  t=$(date +%s)
  rm -f regression.diffs output_iso/regression.diffs
  make --no-print-directory installcheck REGRESS="$regress" ISOLATION= >"$out/regress.log" 2>&1
  count "$out/regress.log" regress "$run" regression.diffs
  make --no-print-directory installcheck REGRESS= ISOLATION="$isolation" >"$out/isolation.log" 2>&1
  count "$out/isolation.log" isolation "$run" output_iso/regression.diffs
  bad=0; for k in "${!fails[@]}"; do bad=$((bad + fails[$k])); done
  echo "  run $run: $(( $(date +%s) - t )) s, failures so far: $bad"
done
if [ "$stress_runs" -gt 0 ]; then
  for run in $(seq "$stress_runs"); do
    if STRESS_SECONDS=${STRESS_SECONDS:-10} test/stress/run.sh >"$out/stress.log" 2>&1; then
      fails[stress:stress]=$(( ${fails[stress:stress]:-0} ))
    else
      fails[stress:stress]=$(( ${fails[stress:stress]:-0} + 1 ))
      cp "$out/stress.log" "$out/run$run-stress.log"
    fi
    echo "  stress run $run: $(tail -1 "$out/stress.log")"
  done
fi
# the TAP suite makes clusters of its own (PostgreSQL::Test::Cluster): run it
# outside this throwaway cluster's environment
for run in $(seq "$tap_runs"); do
  env -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE -u PGSSLMODE \
    make --no-print-directory tap PG_CONFIG="${PG_CONFIG:-pg_config}" >"$out/tap.log" 2>&1
  for f in test/t/*.pl; do
    name=$(basename "$f" .pl)
    if grep -qE "$name\.pl \.+ ok" "$out/tap.log"; then
      fails[tap:$name]=$(( ${fails[tap:$name]:-0} ))
    else
      fails[tap:$name]=$(( ${fails[tap:$name]:-0} + 1 )); cp "$out/tap.log" "$out/run$run-tap.log"
    fi
  done
  echo "  TAP run $run: $(grep -E '^Result:' "$out/tap.log" || tail -1 "$out/tap.log")"
done
stop_burners
trap - EXIT

echo "flaky-check: failures per test (of $runs runs; stress of $stress_runs, TAP of $tap_runs)"
rc=0
for k in $(printf '%s\n' "${!fails[@]}" | sort); do
  n=${fails[$k]}
  if [ "$n" != 0 ]; then rc=1; printf '  %-40s %s FAILED\n' "$k" "$n"; fi
done
[ $rc = 0 ] && echo "  every test passed every run ($(printf '%s\n' "${!fails[@]}" | wc -l) tests)"
exit $rc
