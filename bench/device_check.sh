#!/usr/bin/env bash
# device_check.sh — one short run on another machine (e.g. a 16-core server with AMX): builds the portable binary,
# checks that every kernel path the CPU has gives the reference's results, and measures a 512-token bf16 prompt
# at the OLMo-2 1B shape with olmo.c's own GEMM and with the oneDNN path (AMX where present). Under 4 minutes;
# every step has its own time limit and prints PASS / FAIL / a figure; the last line sums it up.
#
#   bash bench/device_check.sh [THREADS]      (default: all CPUs, at most 16)
set -u
cd "$(dirname "$0")/.."
T=${1:-$(nproc)}; [ "$T" -gt 16 ] && T=16
J=$(nproc); [ "$J" -gt 16 ] && J=16
fails=0
step() { echo; echo "=== $*"; }
say() { echo "$@"; }

step "machine"
say "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs; using $T threads"
say "AMX flags in /proc/cpuinfo: $(grep -m1 -o 'amx[a-z0-9_]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"

step "build (make -j$J: olmo, kernel tests, bench_inference; portable -march=x86-64-v3)"
missing=$(for p in jansson libpcre2-8 libutf8proc zlib libzstd yaml-0.1 openblas; do pkg-config --exists $p || echo -n "$p "; done)
[ -n "$missing" ] && say "missing libraries (pkg-config): $missing — scripts/install-deps.sh installs them"
if ! timeout 150 make -s -j"$J" build/olmo build/tests/test_cpu build/tests/test_linear build/tests/test_attention \
       build/tests/test_model build/bench/bench_inference > /tmp/device_check_build.log 2>&1; then
  say "FAIL build (last lines of /tmp/device_check_build.log):"; tail -15 /tmp/device_check_build.log
  echo; echo "DEVICE CHECK: FAIL (build)"; exit 1
fi
say "PASS build"

step "olmo --version"
timeout 10 build/olmo --version || { say "FAIL olmo --version"; fails=$((fails + 1)); }

step "dispatch: every OLMO_CPU level this CPU has gives the reference's results (tests/cpu_levels.test.sh)"
OLMO=$PWD/build/olmo OLMO_BUILD=$PWD/build timeout 90 bash tests/cpu_levels.test.sh > /tmp/device_check_levels.log 2>&1
grep -E '^(PASS|FAIL)' /tmp/device_check_levels.log | sed 's/^/  /'
n_fail=$(grep -c '^FAIL' /tmp/device_check_levels.log); n_pass=$(grep -c '^PASS' /tmp/device_check_levels.log)
[ "$n_fail" -gt 0 ] || [ "$n_pass" -eq 0 ] && fails=$((fails + 1))
say "levels: $n_pass passed, $n_fail failed"
OLMO_PREFILL_ONEDNN=1 timeout 30 build/tests/test_linear linear_onednn | sed 's/^/  /'
build/tests/test_linear linear_onednn | grep -q '^PASS' || fails=$((fails + 1))

step "prefill: 512-token bf16 prompt, OLMo-2 1B shape (random weights), $T threads"
CK=$(mktemp -d "${TMPDIR:-/tmp}/olmo-device-XXXXXX"); trap 'rm -rf "$CK"' EXIT
if timeout 60 build/bench/bench_inference --shape 1b --standin 0 --model 0 --write-checkpoint "$CK" > /dev/null 2>&1; then
  for mode in 0 1; do
    label="olmo.c's own GEMM (OLMO_PREFILL_ONEDNN=0; the default without AMX)"
    [ $mode = 1 ] && label="oneDNN matmul (OLMO_PREFILL_ONEDNN=1; the default on AMX CPUs)"
    say "--- $label"
    OMP_NUM_THREADS=$T OLMO_PREFILL_ONEDNN=$mode timeout 45 build/bench/bench_inference --shape 1b --standin 0 \
      --model-dir "$CK" --dtype bf16 --rehome 1 --threads "$T" --prompt 512 --decode 2 --prefill-reps 2 2>&1 |
      grep -E '^CPU:|prefill' | sed 's/^/  /' || { say "FAIL prefill ($label)"; fails=$((fails + 1)); }
  done
  say "(1B shape: 1.07 G weights in the layers' projections = 2.15 GFLOP per prompt token; tok/s x 2.15e9 = FLOP/s)"
else
  say "FAIL writing the 1B checkpoint to $CK"; fails=$((fails + 1))
fi

echo
if [ $fails -eq 0 ]; then echo "DEVICE CHECK: PASS"; else echo "DEVICE CHECK: FAIL ($fails step(s))"; fi
[ $fails -eq 0 ]
