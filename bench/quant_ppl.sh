#!/usr/bin/env bash
# quant_ppl.sh — what 4-bit weights cost in perplexity: olmo.c q4 and q8 against olmo.c bf16, and llama.cpp Q4_0
# and Q8_0 against llama.cpp BF16, on the same checkpoint and the same token ids (docs/quantization.md).
#
#   bench/quant_ppl.sh [--model DIR] [--text FILE] [--tokens N] [--demo-seconds S] [--keep]
#
# --model: an OLMo-2 Hugging Face checkpoint with its tokenizer.json (default: one trained here by `olmo demo`,
# which trains with `olmo train`'s trainer, --demo-seconds of training, default 60). The held-out text (default
# ../shared/data/corpora/wikitext2/wiki.test.raw.noblank.txt, which the demo never trains on) is tokenized with
# the checkpoint's tokenizer and its first N ids (default 512; at most the model's context) scored as one window:
# logits of every position in one prefill, mean negative log-likelihood of each next id. olmo.c's logits come from
# build/bench/peer_logits (bf16 / --quant q8 / --quant q4), llama.cpp's from bench/llama_peer.mjs on GGUFs that
# build/bench/peer_gguf writes (BF16, Q8_0, Q4_0 with llama.cpp's reference rounding); the npm peer is installed
# by bench/llama_cpp_peer.sh --install-only. A checkpoint without tokenizer.json (the tiny test fixtures) is
# scored on N deterministic pseudo-random ids instead (random weights: the figure is then only the distortion).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL= TEXT=../shared/data/corpora/wikitext2/wiki.test.raw.noblank.txt N=512 DEMO_S=60 KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --model) MODEL=$2; shift ;;
    --text) TEXT=$2; shift ;;
    --tokens) N=$2; shift ;;
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
  IDS=$(build/olmo tokenizer encode -t "$MODEL/tokenizer.json" --whole "$TEXT" | tr -d '[] \n' | cut -d, -f1-"$N")
  SRC="the first $N tokens of $TEXT"
else
  IDS=$(awk -v v="$VOCAB" -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d", i ? "," : "", (i * 7919 + 11) % v }')
  SRC="$N pseudo-random ids (no tokenizer.json)"
fi
N=$(echo "$IDS" | tr ',' '\n' | wc -l)
echo "== $MODEL: $SRC ($N ids), CPU $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
for q in none q8 q4; do build/bench/peer_logits "$MODEL" "$W/olmo_$q.f32" --tokens "$IDS" --prefill "$N" --quant $q >/dev/null; done
for t in bf16 q8_0 q4_0; do
  build/bench/peer_gguf "$MODEL" "$W/$t.gguf" --type $t 2>/dev/null
  node bench/llama_peer.mjs logits "$W/$t.gguf" "$W/llama_$t.f32" --tokens "$IDS" --prefill "$N" --threads 2 >/dev/null
done
node -e '
const fs = require("fs");
const [dir, ids, V] = [process.argv[1], process.argv[2].split(",").map(Number), +process.argv[3]];
function nll(file) {   // mean -log p(id[t+1] | ids[0..t]) over the window
  const b = fs.readFileSync(file), x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  let s = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = x.subarray(t * V, (t + 1) * V);
    let m = -Infinity; for (const v of row) if (v > m) m = v;
    let z = 0; for (const v of row) z += Math.exp(v - m);
    s += m + Math.log(z) - row[ids[t + 1]];
  }
  return s / (ids.length - 1);
}
const rows = [["olmo.c", "bf16", "olmo_none"], ["olmo.c", "q8", "olmo_q8"], ["olmo.c", "q4", "olmo_q4"],
              ["llama.cpp", "BF16", "llama_bf16"], ["llama.cpp", "Q8_0", "llama_q8_0"], ["llama.cpp", "Q4_0", "llama_q4_0"]];
const r = Object.fromEntries(rows.map(([, , f]) => [f, nll(`${dir}/${f}.f32`)]));
console.log("engine     weights   mean NLL   perplexity   NLL increase over the engine'"'"'s own bf16");
for (const [e, w, f] of rows) {
  const base = e === "olmo.c" ? r.olmo_none : r.llama_bf16;
  console.log(`${e.padEnd(10)} ${w.padEnd(7)} ${r[f].toFixed(5).padStart(10)} ${Math.exp(r[f]).toFixed(3).padStart(12)} ${(r[f] - base).toFixed(5).padStart(12)}`);
}
const a = r.olmo_q4 - r.olmo_none, b = r.llama_q4_0 - r.llama_bf16;
console.log(`q4 increase / Q4_0 increase: ${(a / b).toFixed(3)} (below 1: olmo.c q4 loses less)`);
' "$W" "$IDS" "$VOCAB"
