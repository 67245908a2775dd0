#!/usr/bin/env bash
# llama_cpp_peer.sh — olmo.c and llama.cpp side by side on the same random OLMo-2 weights, same machine, same
# run, alternating, so the result is a ratio that other tenants' memory traffic moves less than either figure
# (docs/bench-peers.md).
#
#   bench/llama_cpp_peer.sh [--shape 1b|tiny|7b] [--threads 2] [--decode 32] [--prompt 512] [--rounds 3]
#                           [--dtype bf16|q8|q4|all] [--keep] [--workdir DIR] [--install-only] [--no-check]
#                           [--llama-flash-attn off|on|auto]
#
# 1. installs llama.cpp's prebuilt CPU libraries through npm (node-llama-cpp + @node-llama-cpp/linux-x64, 85 MB,
#    no CUDA/Vulkan packages) into $OLMO_PEER_DIR (default bench/peers, git-ignored), once;
# 2. builds build/bench/{bench_inference,peer_gguf,peer_logits} (make bench);
# 3. writes ONE random bf16 checkpoint of the shape (bench_inference --write-checkpoint) and converts it to GGUF:
#    BF16, Q8_0 and/or Q4_0 (peer_gguf; olmo.c's q4 is its own format, quantized at load, against Q4_0);
# 4. checks that both engines compute the same model: logits of the same ids (a prefill, then decode steps),
#    olmo.c bf16 vs llama.cpp BF16 (peer_logits, llama_peer.mjs logits, peer_compare.mjs);
# 5. R rounds, each: olmo.c (bench_inference --model-dir, weights memory-mapped as `olmo generate` runs them;
#    q8 = quantized at load) and llama.cpp (llama_peer.mjs bench, GGUF memory-mapped), the order swapped every
#    round; decode tok/s from an empty cache (mean over N tokens, like llama-bench tg) and P-token prefill tok/s
#    (best of 2, like llama-bench pp); the same thread count for both; one engine in memory at a time;
# 6. prints per precision and phase every round, best, median and the ratio olmo.c / llama.cpp, with the read
#    bandwidth bench_inference measured in each round and the load average;
# 7. removes the checkpoint and GGUF files unless --keep.
set -euo pipefail
cd "$(dirname "$0")/.."

SHAPE=1b THREADS=2 DECODE=32 PROMPT=512 ROUNDS=3 DTYPE=all KEEP=0 WORK= INSTALL_ONLY=0 CHECK=1 FA=off
while [ $# -gt 0 ]; do
  case $1 in
    --shape) SHAPE=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --decode) DECODE=$2; shift ;;
    --prompt) PROMPT=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --dtype) DTYPE=$2; shift ;;
    --workdir) WORK=$2; shift ;;
    --keep) KEEP=1 ;;
    --install-only) INSTALL_ONLY=1 ;;
    --no-check) CHECK=0 ;;
    --llama-flash-attn) FA=$2; shift ;;
    *) echo "llama_cpp_peer.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
  shift
done
case $DTYPE in bf16) DTYPES="bf16" ;; q8) DTYPES="q8" ;; q4) DTYPES="q4" ;; all) DTYPES="bf16 q8 q4" ;;
  *) echo "llama_cpp_peer.sh: --dtype bf16, q8, q4 or all" >&2; exit 2 ;; esac

# ---- 1. the npm peer (pinned versions; --omit=optional keeps the CUDA / Vulkan / ARM packages out) ----
NLC_VERSION=3.22.1
export OLMO_PEER_DIR=${OLMO_PEER_DIR:-$PWD/bench/peers}
have_peer() {
  [ -f "$OLMO_PEER_DIR/node_modules/node-llama-cpp/package.json" ] &&
  [ -d "$OLMO_PEER_DIR/node_modules/@node-llama-cpp/linux-x64" ] &&
  grep -q "\"version\": \"$NLC_VERSION\"" "$OLMO_PEER_DIR/node_modules/node-llama-cpp/package.json"
}
if ! have_peer; then
  echo "== installing node-llama-cpp $NLC_VERSION (llama.cpp CPU binaries) into $OLMO_PEER_DIR"
  mkdir -p "$OLMO_PEER_DIR"
  [ -f "$OLMO_PEER_DIR/package.json" ] || echo '{"private": true}' > "$OLMO_PEER_DIR/package.json"
  npm install --prefix "$OLMO_PEER_DIR" --omit=optional --ignore-scripts --no-audit --no-fund --save-exact \
    "node-llama-cpp@$NLC_VERSION" "@node-llama-cpp/linux-x64@$NLC_VERSION" >/dev/null
  have_peer || { echo "llama_cpp_peer.sh: the install did not produce node-llama-cpp $NLC_VERSION" >&2; exit 1; }
fi
[ $INSTALL_ONLY = 1 ] && { echo "node-llama-cpp $NLC_VERSION ready in $OLMO_PEER_DIR"; exit 0; }

# ---- 2. build ----
make -s bench >/dev/null
B=build/bench

# ---- 3. the checkpoint and its GGUF files ----
if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/olmo-peer-XXXXXX"); fi
mkdir -p "$WORK"
cleanup() { [ $KEEP = 1 ] || rm -rf "$WORK/ckpt" "$WORK"/*.gguf "$WORK"/*.f32 "$WORK/results.tsv"; [ $KEEP = 1 ] || rmdir "$WORK" 2>/dev/null || true; }
trap cleanup EXIT
CK=$WORK/ckpt
echo "== $(date -u '+%F %T') UTC, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); work directory $WORK"
if [ ! -f "$CK/model.safetensors" ]; then
  $B/bench_inference --shape "$SHAPE" --standin 0 --model 0 --write-checkpoint "$CK" | grep "written to"
fi
VOCAB=$(sed -n 's/.*"vocab_size": *\([0-9]*\).*/\1/p' "$CK/config.json")
for dt in $DTYPES; do
  ty=$(case $dt in q8) echo q8_0 ;; q4) echo q4_0 ;; *) echo bf16 ;; esac)
  [ -f "$WORK/$dt.gguf" ] || $B/peer_gguf "$CK" "$WORK/$dt.gguf" --type $ty
done

# ---- 4. same model? logits of the same ids, olmo.c bf16 vs llama.cpp BF16 ----
if [ $CHECK = 1 ]; then
  [ -f "$WORK/bf16.gguf" ] || $B/peer_gguf "$CK" "$WORK/bf16.gguf" --type bf16
  IDS=$(awk -v v="$VOCAB" 'BEGIN { m = v < 50000 ? v : 50000; for (i = 0; i < 12; i++) printf "%s%d", i ? "," : "", (i * 7919 + 11) % m }')
  echo "== agreement: token ids $IDS, the first 8 as one prefill, then 4 decode steps"
  $B/peer_logits "$CK" "$WORK/olmo.f32" --tokens "$IDS" --prefill 8 >/dev/null
  node bench/llama_peer.mjs logits "$WORK/bf16.gguf" "$WORK/llama.f32" --tokens "$IDS" --prefill 8 --threads "$THREADS" >/dev/null
  node bench/peer_compare.mjs compare "$WORK/olmo.f32" "$WORK/llama.f32" --vocab "$VOCAB" --names olmo.c,llama.cpp ||
    echo "llama_cpp_peer.sh: WARNING: the engines disagree beyond the limit (see above); timings follow anyway"
  rm -f "$WORK/olmo.f32" "$WORK/llama.f32"
fi

# ---- 5. alternating rounds ----
R=$WORK/results.tsv
: > "$R"
run_olmo() {   # dtype round
  local out
  out=$($B/bench_inference --shape "$SHAPE" --standin 0 --model-dir "$CK" --dtype "$1" --rehome 0 \
        --threads "$THREADS" --prompt "$PROMPT" --decode "$DECODE" --prefill-reps 2)
  awk -v dt="$1" -v r="$2" -v la="$(cut -d' ' -f1 /proc/loadavg)" '
    $1 == dt && $2 == "decode" && !d { d = $3; bw = $6 }
    $1 == dt && $2 == "prefill" { p = $3 }
    END { printf "%s\tdecode\t%s\tolmo.c\t%s\t%s\t%s\n%s\tprefill\t%s\tolmo.c\t%s\t%s\t%s\n", dt, r, d, bw, la, dt, r, p, bw, la }' \
    <<<"$out" >> "$R"
}
run_llama() {   # dtype round
  local out
  out=$(node bench/llama_peer.mjs bench "$WORK/$1.gguf" --threads "$THREADS" --prompt "$PROMPT" --decode "$DECODE" \
        --reps 2 --vocab "$VOCAB" --flash-attn "$FA")
  node -e '
    const j = JSON.parse(process.argv[1]), [dt, r, la] = process.argv.slice(2);
    if (j.cpu_variant) console.error(`   llama.cpp CPU variant in use: libggml-cpu-${j.cpu_variant}.so`);
    if (j.decode_tps_llama_internal)
      console.error(`   llama.cpp ${dt} decode ${j.decode_tps.toFixed(2)} tok/s through the binding, ` +
                    `${j.decode_tps_llama_internal.toFixed(2)} by its own counters`);
    console.log(`${dt}\tdecode\t${r}\tllama.cpp\t${j.decode_tps.toFixed(2)}\t-\t${la}`);
    console.log(`${dt}\tprefill\t${r}\tllama.cpp\t${j.prefill_tps.toFixed(1)}\t-\t${la}`);' \
    "$out" "$1" "$2" "$(cut -d' ' -f1 /proc/loadavg)" >> "$R"
}
others() {   # other processes using more than 20 % of a core right now (the load average counts ours too)
  top -bn2 -d0.5 -o %CPU | awk '/^top -/ { n++ } n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 > 20 { printf "%s %s%%  ", $12, $9 }'
}
for r in $(seq 1 "$ROUNDS"); do
  for dt in $DTYPES; do
    echo "== round $r/$ROUNDS, $dt (load average $(cut -d' ' -f1 /proc/loadavg); other busy processes: $(others))"
    if [ $((r % 2)) = 1 ]; then run_olmo $dt $r; run_llama $dt $r; else run_llama $dt $r; run_olmo $dt $r; fi
  done
done

# ---- 6. the table ----
echo
echo "OLMo-2 $SHAPE shape, random weights, $THREADS threads; decode: $DECODE tokens from an empty cache (mean);"
echo "prefill: a $PROMPT-token prompt in one call (best of 2); tokens/s; ratio = olmo.c / llama.cpp; read GB/s: a"
echo "streaming read over the mapped checkpoint in olmo.c's run of that round; load: 1-minute load average;"
echo "llama.cpp: node-llama-cpp $NLC_VERSION's libllama (CPU, GGUF memory-mapped, f16 KV cache, flash attention $FA)."
awk -F'\t' '
  { key = $1 " " $2; v[key, $4, $3] = $5; if ($6 != "-") bw[key, $3] = $6; la[key, $3] = $7; keys[key] = 1; if ($3 > n) n = $3 }
  function sortnum(a, m,   i, j, t) { for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
  function med(a, m) { return m % 2 ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2 }
  END {
    split("bf16 decode,bf16 prefill,q8 decode,q8 prefill,q4 decode,q4 prefill", order, ",")
    printf "%-13s %-7s %10s %10s %7s %9s %6s\n", "", "round", "olmo.c", "llama.cpp", "ratio", "read GB/s", "load"
    for (k = 1; k <= 6; k++) {
      key = order[k]; if (!(key in keys)) continue
      delete A; delete L
      for (r = 1; r <= n; r++) {
        o = v[key, "olmo.c", r]; l = v[key, "llama.cpp", r]; A[r] = o; L[r] = l
        printf "%-13s %-7s %10s %10s %7.2f %9s %6s\n", key, r, o, l, (l > 0 ? o / l : 0), bw[key, r], la[key, r]
      }
      sortnum(A, n); sortnum(L, n)
      printf "%-13s %-7s %10s %10s %7.2f\n", key, "best", A[n], L[n], (L[n] > 0 ? A[n] / L[n] : 0)
      printf "%-13s %-7s %10.2f %10.2f %7.2f\n", key, "median", med(A, n), med(L, n), (med(L, n) > 0 ? med(A, n) / med(L, n) : 0)
    }
  }' "$R"
[ $KEEP = 1 ] && echo "kept: $WORK (ckpt/, *.gguf, results.tsv)"
exit 0
