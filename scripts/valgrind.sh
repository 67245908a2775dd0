#!/usr/bin/env bash
# valgrind.sh — runs the `olmo` commands that touch every inference and tokenizer path under valgrind memcheck
# (`make valgrind` builds the binary first). Valgrind 3.19 (Debian 12) cannot decode AVX-512, so the binary is
# built for x86-64-v3 (AVX2; the kernels then take their portable paths) and OpenBLAS and oneDNN are told to stay
# on AVX2 too. Pool threads live until exit by design, so only definite leaks count as errors.
# Usage: scripts/valgrind.sh [OLMO_BINARY [TEST_BINARY...]]   (default build-vg/olmo); the test binaries (from the
# same build) run whole under valgrind too. Exit status 0 when every run is clean.
set -uo pipefail
cd "$(dirname "$0")/.."
OLMO=${1:-build-vg/olmo}
shift || true
export OMP_WAIT_POLICY=passive      # no re-exec of olmo by itself (valgrind would not follow it cleanly)
export ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell
VG=(valgrind --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite --error-exitcode=9 -q)
FIX=tests/fixtures/model/olmo2_gen
SHARED=${OLMO_SHARED_DATA:-../shared/data}
fail=0
run() {   # name, then the command; stdin from $IN
    local name=$1; shift
    if "${VG[@]}" "$@" < "${IN:-/dev/null}" > /dev/null 2> /tmp/olmo-valgrind.$$.log; then
        echo "PASS $name"
    else
        echo "FAIL $name (valgrind log follows)"; grep '==' /tmp/olmo-valgrind.$$.log | head -40; fail=1
    fi
}
run "generate q8 + bf16 KV cache" "$OLMO" generate -m $FIX -p "hello world" -n 6 --quant q8 --kv-cache bf16 -t 2
run "generate sampled, fp32 cache" "$OLMO" generate -m $FIX -p "hello" -n 6 --temperature 0.8 --top-k 20 --top-p 0.9 -s 3
run "perplexity bf16 KV cache" "$OLMO" perplexity -m $FIX -f README.md --ctx 64 --kv-cache bf16
TMP_IN=$(mktemp)
printf 'Hello\nAgain\n' > "$TMP_IN"
IN=$TMP_IN run "chat, two turns" "$OLMO" chat -m $FIX -n 4 --ctx 160
if [ -f "$SHARED/tokenizers/allenai_dolma2.json" ]; then
    head -c 20000 README.md > "$TMP_IN"
    IN=$TMP_IN run "tokenizer encode (dolma2)" "$OLMO" tokenizer encode -t "$SHARED/tokenizers/allenai_dolma2.json"
else
    echo "SKIP tokenizer encode: $SHARED/tokenizers/allenai_dolma2.json absent"
fi
for t in "$@"; do
    run "$(basename "$t")" "$t"
done
rm -f /tmp/olmo-valgrind.$$.log "$TMP_IN"
exit $fail
