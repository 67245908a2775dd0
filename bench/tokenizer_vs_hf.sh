#!/usr/bin/env bash
# tokenizer_vs_hf.sh — olmo's tokenizer and Hugging Face `tokenizers` 0.23.2 side by side, single-threaded, on the
# same text: HF = ../shared/tools/tok_ref.js --bench N --mode whole (Node binding over the Rust core, warm cache
# after a warm-up call), olmo = build/bench/bench_tokenizer (warm and cold cache). Runs both ROUNDS times,
# alternating, and reports the best of each (the machine is shared; best-of is the least disturbed).
#
#   bench/tokenizer_vs_hf.sh [TOKENIZER.json [TEXT]]      (ROUNDS=3, HF_REPS=3; needs `make bench`, node, npm)
set -eu
SHARED=${OLMO_SHARED_DATA:-../shared/data}
TOK=${1:-$SHARED/tokenizers/allenai_dolma2.json}
FILE=${2:-$SHARED/corpora/gutenberg/pg1342_pride_and_prejudice.txt}
ROUNDS=${ROUNDS:-3}
HF_REPS=${HF_REPS:-3}
BUILD=${BUILD:-build}
NPM_DIR=${OLMO_NPM_DIR:-$PWD/build/npm}
if [ ! -d "$NPM_DIR/node_modules/tokenizers" ]; then
  mkdir -p "$NPM_DIR" && (cd "$NPM_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund tokenizers@0.23.2 >/dev/null)
fi
[ -x "$BUILD/bench/bench_tokenizer" ] || make -s bench >/dev/null
export TOK_DIR=$NPM_DIR
best() { sort -g | tail -1; }
hf=(); ours=(); cold=(); toks=()
for r in $(seq "$ROUNDS"); do
  h=$(node "$(dirname "$SHARED")/tools/tok_ref.js" --bench "$HF_REPS" --mode whole "$TOK" "$FILE" 2>&1 >/dev/null |
      sed -n 's/.*"MB_per_s":\([0-9.]*\).*/\1/p')
  o=$(OMP_NUM_THREADS=1 "$BUILD/bench/bench_tokenizer" -t "$TOK" -f "$FILE" -s 1)
  hf+=("$h")
  ours+=("$(echo "$o" | sed -n 's/^encode, 1 thread, warm cache *\([0-9.]*\) MB\/s.*/\1/p')")
  cold+=("$(echo "$o" | sed -n 's/^encode, 1 thread, first call (cold cache) *\([0-9.]*\) MB\/s.*/\1/p')")
  toks+=("$(echo "$o" | sed -n 's/.*(\([0-9]*\) tokens, \([0-9.]*\) bytes\/token).*/\2/p')")
done
H=$(printf '%s\n' "${hf[@]}" | best); O=$(printf '%s\n' "${ours[@]}" | best); C=$(printf '%s\n' "${cold[@]}" | best)
BPT=${toks[0]}
echo "text: $FILE ($(wc -c < "$FILE") bytes), tokenizer: $(basename "$TOK"), best of $ROUNDS rounds, 1 thread"
awk -v h="$H" -v o="$O" -v c="$C" -v b="$BPT" 'BEGIN {
  printf "%-46s %8.2f MB/s  %6.2f Mtok/s\n", "Hugging Face tokenizers 0.23.2 (tok_ref.js)", h, h / b
  printf "%-46s %8.2f MB/s  %6.2f Mtok/s   x%.1f vs HF\n", "olmo tok_encode, warm cache", o, o / b, o / h
  printf "%-46s %8.2f MB/s  %6.2f Mtok/s   x%.1f vs HF\n", "olmo tok_encode, first call (cold cache)", c, c / b, c / h }'
