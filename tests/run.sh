#!/usr/bin/env bash
# run.sh BUILD_DIR — runs every test binary in BUILD_DIR/tests and every tests/*.test.sh, then prints the
# suite's closing line "suite: N passed, N failed, N skipped". Exit status 1 if anything failed.
# Shell tests speak the same protocol as the C harness: PASS/FAIL/SKIP lines on stdout; they find the
# olmo binary in $OLMO (absolute path).
set -u
BUILD=${1:-build}
export OLMO="$(cd "$BUILD" && pwd)/olmo"
export OLMO_BUILD="$(cd "$BUILD" && pwd)"
passed=0; failed=0; skipped=0; broken=()
log=$(mktemp)
run_one() {   # name, command...
  local name=$1; shift
  local start=$SECONDS
  "$@" >"$log" 2>"$log.err"; local rc=$?
  local p f s
  p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
  grep -E '^(FAIL|SKIP) ' "$log" | sed "s|^|  [$name] |"
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1; echo "  [$name] FAIL: exited with status $rc"; tail -20 "$log.err" | sed 's/^/      /'
  elif [ "$f" -gt 0 ]; then
    tail -20 "$log.err" | sed 's/^/      /'
  fi
  [ "$f" -gt 0 ] && broken+=("$name")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  printf '%-28s %3d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $((SECONDS - start))
}
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  run_one "$(basename "$t")" "$t"
done
for t in tests/*.test.sh; do
  [ -e "$t" ] || continue
  run_one "$(basename "$t")" bash "$t"
done
rm -f "$log" "$log.err"
[ ${#broken[@]} -gt 0 ] && echo "failing: ${broken[*]}"
echo "suite: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
