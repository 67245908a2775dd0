#!/usr/bin/env bash
# quant_ppl.sh — what 4-bit weights cost in perplexity: olmo.c q4 and q8 against olmo.c bf16, and llama.cpp Q4_0
# and Q8_0 against llama.cpp BF16, on the same checkpoint and the same token ids (docs/quantization.md).
#
#   bench/quant_ppl.sh [--model DIR] [--text FILE] [--tokens N] [--windows W] [--demo-seconds S] [--keep]
#
# --model: an OLMo-2 Hugging Face checkpoint with its tokenizer.json (default: one trained here by `olmo demo`,
# which trains with `olmo train`'s trainer, --demo-seconds of training, default 60). The held-out text (default
# ../shared/data/corpora/wikitext2/wiki.test.raw.noblank.txt, which the demo never trains on) is tokenized with
# the checkpoint's tokenizer and cut into W consecutive windows (default 8) of N ids (default 512; at most the
# model's context); each window is scored alone: logits of every position in one prefill, the negative
# log-likelihood of each next id, averaged over all windows. olmo.c's logits come from
# build/bench/peer_logits (bf16 / --quant q8 / --quant q4), llama.cpp's from bench/llama_peer.mjs on GGUFs that
# build/bench/peer_gguf writes (BF16, Q8_0, Q4_0 with llama.cpp's reference rounding); the npm peer is installed
# by bench/llama_cpp_peer.sh --install-only. A checkpoint without tokenizer.json (the tiny test fixtures) is
# scored on N deterministic pseudo-random ids instead (random weights: the figure is then only the distortion).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL= TEXT=../shared/data/corpora/wikitext2/wiki.test.raw.noblank.txt N=512 WIN=8 DEMO_S=60 KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --model) MODEL=$2; shift ;;
    --text) TEXT=$2; shift ;;
    --tokens) N=$2; shift ;;
    --windows) WIN=$2; shift ;;
    --demo-seconds) DEMO_S=$2; shift ;;
    --keep) KEEP=1 ;;
    *) echo "quant_ppl.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
  shift
done
make -s build/olmo build/bench/peer_logits build/bench/peer_gguf >/dev/null
W=$(mktemp -d "${TMPDIR:-/tmp}/olmo-ppl-XXXXXX")
[ $KEEP = 1 ] || trap 'rm -rf "$W"' EXIT
if [ -z "$MODEL" ]; then
  echo "== training a model with olmo demo (${DEMO_S}s) in $W/demo"
  build/olmo demo --out "$W/demo" --seconds "$DEMO_S" > "$W/demo.log" 2>&1 || { tail -5 "$W/demo.log"; exit 1; }
  MODEL=$(dirname "$(find "$W/demo" -name config.json | head -1)")
fi
VOCAB=$(sed -n 's/.*"vocab_size": *\([0-9]*\).*/\1/p' "$MODEL/config.json")
CTX=$(sed -n 's/.*"max_position_embeddings": *\([0-9]*\).*/\1/p' "$MODEL/config.json")
[ -n "$CTX" ] && [ "$N" -gt "$CTX" ] && N=$CTX
if [ -f "$MODEL/tokenizer.json" ]; then
  build/olmo tokenizer encode -t "$MODEL/tokenizer.json" --whole "$TEXT" | tr -d '[] \n' | tr ',' '\n' > "$W/all.ids"
  SRC="$TEXT"
else
  awk -v v="$VOCAB" -v n="$((N * WIN))" 'BEGIN { for (i = 0; i < n; i++) print (i * 7919 + 11) % v }' > "$W/all.ids"
  SRC="pseudo-random ids (no tokenizer.json)"
fi
have=$(wc -l < "$W/all.ids")
[ $((N * WIN)) -gt "$have" ] && WIN=$((have / N))
[ "$WIN" -ge 1 ] || { echo "quant_ppl.sh: $SRC has $have tokens, fewer than one window of $N" >&2; exit 1; }
echo "== $MODEL: $WIN windows of $N tokens of $SRC, CPU $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
for t in bf16 q8_0 q4_0; do build/bench/peer_gguf "$MODEL" "$W/$t.gguf" --type $t 2>/dev/null; done
: > "$W/windows"
for w in $(seq 0 $((WIN - 1))); do
  IDS=$(sed -n "$((w * N + 1)),$((w * N + N))p" "$W/all.ids" | paste -sd,)
  echo "$IDS" >> "$W/windows"
  for q in none q8 q4; do build/bench/peer_logits "$MODEL" "$W/olmo_$q.$w.f32" --tokens "$IDS" --prefill "$N" --quant $q >/dev/null; done
  for t in bf16 q8_0 q4_0; do
    node bench/llama_peer.mjs logits "$W/$t.gguf" "$W/llama_$t.$w.f32" --tokens "$IDS" --prefill "$N" --threads 2 >/dev/null
  done
done
node -e '
const fs = require("fs");
const [dir, V] = [process.argv[1], +process.argv[2]];
const windows = fs.readFileSync(`${dir}/windows`, "utf8").trim().split("\n").map((l) => l.split(",").map(Number));
function logsoftmax(row) {
  let m = -Infinity; for (const v of row) if (v > m) m = v;
  let z = 0; for (const v of row) z += Math.exp(v - m);
  const lz = m + Math.log(z);
  return Float64Array.from(row, (v) => v - lz);
}
const rowsOf = (prefix, w) => { const b = fs.readFileSync(`${dir}/${prefix}.${w}.f32`); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
// mean NLL of each next id, and mean KL(base || this) of the next-token distributions, over every window
function score(prefix, base) {
  let s = 0, kl = 0, n = 0;
  windows.forEach((ids, w) => {
    const x = rowsOf(prefix, w), y = rowsOf(base, w);
    for (let t = 0; t + 1 < ids.length; t++, n++) {
      const lp = logsoftmax(x.subarray(t * V, (t + 1) * V)), lq = logsoftmax(y.subarray(t * V, (t + 1) * V));
      s -= lp[ids[t + 1]];
      for (let k = 0; k < V; k++) kl += Math.exp(lq[k]) * (lq[k] - lp[k]);
    }
  });
  return [s / n, kl / n];
}
const rows = [["olmo.c", "bf16", "olmo_none"], ["olmo.c", "q8", "olmo_q8"], ["olmo.c", "q4", "olmo_q4"],
              ["llama.cpp", "BF16", "llama_bf16"], ["llama.cpp", "Q8_0", "llama_q8_0"], ["llama.cpp", "Q4_0", "llama_q4_0"]];
const r = {};
console.log("engine     weights   mean NLL   perplexity   NLL change   KL(own bf16 || this), nats/token");
for (const [e, w, f] of rows) {
  const base = e === "olmo.c" ? "olmo_none" : "llama_bf16";
  r[f] = score(f, base);
  const b = r[base] || r[f];
  console.log(`${e.padEnd(10)} ${w.padEnd(7)} ${r[f][0].toFixed(5).padStart(10)} ${Math.exp(r[f][0]).toFixed(3).padStart(12)} ${(r[f][0] - b[0]).toFixed(5).padStart(12)} ${r[f][1].toExponential(3).padStart(12)}`);
}
console.log(`KL of olmo.c q4 / KL of llama.cpp Q4_0: ${(r.olmo_q4[1] / r.llama_q4_0[1]).toFixed(3)} (below 1: the olmo.c 4-bit weights distort the model less)`);
' "$W" "$VOCAB"
