#!/usr/bin/env bash
# bench_serve.sh [SHAPE] [TOKENS] — `olmo serve` aggregate decode throughput with 1, 2, 4, 8 concurrent streams
# against one stream, at the OLMo-2 1B shape (random bf16 weights, written once by bench_inference
# --write-checkpoint into build/bench-serve-SHAPE, with the dolma2 tokenizer beside them).
#
# One server with --parallel 8; for N in 1 2 4 8, N clients each POST /v1/completions (an 8-token prompt of ids,
# TOKENS new tokens, greedy, ignore stops via a logit_bias that bans EOS) at once. Printed per N: wall time until
# the last answer, generated tokens, aggregate tokens/s (wall) and decode tokens/s (the server's own timings:
# sum of predicted_n / mean predicted_ms), and the ratio to N = 1. The limit: decoding is bound by reading the
# weights, and the batched step (model_forward_batch) reads them once for all N streams, so the ideal is xN;
# attention and the per-row arithmetic grow with N and take the rest. Run under flock /work/locks/bench.
set -eu
SHAPE=${1:-1b}
TOKENS=${2:-24}
B=${OLMO_BUILD:-build}
DIR=$B/bench-serve-$SHAPE
TOKJ=${OLMO_SHARED_DATA:-../shared/data}/tokenizers/allenai_dolma2.json
command -v curl >/dev/null && command -v jq >/dev/null || { echo "bench_serve: needs curl and jq"; exit 1; }
[ -x "$B/olmo" ] && [ -x "$B/bench/bench_inference" ] || { echo "bench_serve: run 'make bench' first"; exit 1; }
if [ ! -f "$DIR/model.safetensors" ]; then
  "$B/bench/bench_inference" --shape "$SHAPE" --standin 0 --model 0 --write-checkpoint "$DIR" | grep "written to" || true
fi
[ -f "$DIR/tokenizer.json" ] || cp "$TOKJ" "$DIR/tokenizer.json"
tmp=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
"$B/olmo" serve -m "$DIR" --port 0 --port-file "$tmp/port" --parallel 8 --ctx $((TOKENS + 64)) > "$tmp/log" 2>&1 &
PID=$!
for _ in $(seq 600); do [ -s "$tmp/port" ] && curl -sf "http://127.0.0.1:$(cat "$tmp/port")/health" >/dev/null 2>&1 && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat "$tmp/port")
EOS=$(jq -r '.eos_token_id' "$DIR/config.json")
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "olmo serve, $SHAPE shape, random bf16 weights, $TOKENS new tokens per stream, $(nproc) cores ($cpu), $(date -u +%H:%M) UTC"
req() { echo "{\"prompt\":[$((100 + $1)),200,300,400,500,600,700,$((800 + $1))],\"max_tokens\":$TOKENS,\"temperature\":0,\"logit_bias\":{\"$EOS\":-100}}"; }
curl -s "$URL/v1/completions" -d "$(req 0 | sed "s/\"max_tokens\":$TOKENS/\"max_tokens\":2/")" > /dev/null   # warm the pages
printf '%-8s %10s %8s %14s %8s %16s %8s\n' streams wall_s tokens agg_tok/s x1 decode_tok/s x1
base_a=; base_d=
for N in 1 2 4 8; do
  t0=$(date +%s.%N)
  for i in $(seq $N); do curl -s "$URL/v1/completions" -d "$(req $i)" > "$tmp/r$i" & done
  wait $(jobs -p | grep -v "^$PID\$")
  t1=$(date +%s.%N)
  toks=$(cat $(seq -f "$tmp/r%g" 1 $N) | jq -s 'map(.usage.completion_tokens) | add')
  dec=$(cat $(seq -f "$tmp/r%g" 1 $N) | jq -s '(map(.timings.predicted_n) | add) / ((map(.timings.predicted_ms) | add) / length / 1000)')
  agg=$(echo "$toks / ($t1 - $t0)" | bc -l)
  [ -z "$base_a" ] && base_a=$agg && base_d=$dec
  printf '%-8s %10.2f %8d %14.2f %8.2f %16.2f %8.2f\n' $N "$(echo "$t1 - $t0" | bc -l)" "$toks" "$agg" \
    "$(echo "$agg / $base_a" | bc -l)" "$dec" "$(echo "$dec / $base_d" | bc -l)"
done
echo "ideal (weights read once per step for all streams): xN; peer: llama.cpp's server is not installed here"
