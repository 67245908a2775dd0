#!/usr/bin/env bash
# tokenizer_train.test.sh — `olmo tokenizer train` end to end: flag and input errors, training on a few MB of
# ../shared/data/corpora (deterministic: the same file for 1 and 2 threads), then held-out text encoded by
# `olmo tokenizer encode` and by Hugging Face tokenizers 0.23.2 (node, ../shared/tools/tok_ref.js) must give the
# same ids (and decoding them the same text); and HF's own BpeTrainer must learn the same merge list on a small
# corpus (tests/ref/hf_bpe_train.js).
# The npm package is installed once into $TOK_DIR (default build/npm); without npm access those parts SKIP.
set -u
OLMO=${OLMO:-$PWD/build/olmo}
DATA=${OLMO_SHARED_DATA:-../shared/data}
TOK_REF=${TOK_REF:-$DATA/../tools/tok_ref.js}
TOK_DIR=$(realpath -m "${TOK_DIR:-$PWD/build/npm}")   # tok_ref.js needs an absolute path
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# ---- errors: clear message, exit 1, nothing written ----
out=$("$OLMO" tokenizer train --help 2>&1)
if [ $? -eq 0 ] && grep -q -- '--vocab-size' <<<"$out"; then pass train_help; else fail train_help "$out"; fi

printf 'hello world\n' >"$tmp/small.txt"
check_error() {   # name, expected message part, args...
  local name=$1 want=$2; shift 2
  local msg; msg=$("$OLMO" tokenizer train "$@" 2>&1 >/dev/null); local rc=$?
  if [ $rc -eq 1 ] && grep -qF -- "$want" <<<"$msg" && [ ! -e "$tmp/err.json" ]; then pass "$name"
  else fail "$name" "exit $rc, message: $msg"; fi
}
check_error train_needs_vocab_size "--vocab-size is required" -o "$tmp/err.json" "$tmp/small.txt"
check_error train_vocab_too_small "vocab size 100" --vocab-size 100 -o "$tmp/err.json" "$tmp/small.txt"
check_error train_bad_number "expected a whole number" --vocab-size 12k -o "$tmp/err.json" "$tmp/small.txt"
check_error train_missing_file "$tmp/nope.txt" --vocab-size 1000 -o "$tmp/err.json" "$tmp/nope.txt"
check_error train_no_files "at least one text file" --vocab-size 1000 -o "$tmp/err.json"
check_error train_unknown_flag "unknown option '--vocab'" --vocab 1000 "$tmp/small.txt"

# ---- training on real text ----
CORP=$DATA/corpora
if [ ! -f "$CORP/tinyshakespeare.txt" ] || [ ! -d "$CORP/gutenberg" ]; then
  skip train_corpus "no corpora under $CORP (shared data absent)"
  exit 0
fi
train=("$CORP/tinyshakespeare.txt" "$CORP/gutenberg/pg1342_pride_and_prejudice.txt" "$CORP/speeches/inaugural.txt")
vocab=4096
if [ "${OLMO_SANITIZED:-0}" = 1 ]; then   # ASan/UBSan: a smaller corpus keeps the suite fast
  train=("$CORP/tinyshakespeare.txt")
  vocab=2048
fi
start=$SECONDS
if ! "$OLMO" tokenizer train --vocab-size $vocab --threads 2 -o "$tmp/t2.json" "${train[@]}" 2>"$tmp/log"; then
  fail train_corpus "$(cat "$tmp/log")"
  exit 0
fi
pass train_corpus
"$OLMO" tokenizer train --vocab-size $vocab --threads 1 -o "$tmp/t1.json" "${train[@]}" 2>/dev/null
if cmp -s "$tmp/t1.json" "$tmp/t2.json"; then pass train_deterministic_across_threads
else fail train_deterministic_across_threads "1 and 2 threads wrote different files"; fi

# held-out text: other books and articles, plus a few lines that stress the splitter and the special tokens
{
  head -n 1500 "$CORP/gutenberg/pg11_alice_in_wonderland.txt"
  head -n 300 "$CORP/wikitext2/wiki.test.raw.noblank.txt"
  head -n 300 "$CORP/tinystories/tinystories_sample_niklas6.txt"
  printf '%s\n' "It's 12345 o'clock<|endoftext|>Next document<|padding|><|padding|>" \
    "Café naïve 日本語 😀 — “quotes” and	tabs   and    spaces  " "x = f(a, b) { return a*b + 3.14159; }" \
    "  leading spaces" "trailing spaces   " "ÀÉÎÕÜ ß ÆØÅ ﬁ ℕ ²³ Ⅻ" "<|endoftext|>"
} >"$tmp/held.txt"
if ! "$OLMO" tokenizer encode -t "$tmp/t2.json" "$tmp/held.txt" >"$tmp/ours.ids" 2>"$tmp/log"; then
  fail train_encode_held_out "$(cat "$tmp/log")"
else
  pass train_encode_held_out
fi

# ---- Hugging Face tokenizers as the reference ----
if ! command -v node >/dev/null; then
  skip train_hf_same_ids "node is not installed"
  skip train_hf_same_decode "node is not installed"
  skip train_hf_same_merges "node is not installed"
  exit 0
fi
if [ ! -f "$TOK_DIR/node_modules/tokenizers/package.json" ]; then
  mkdir -p "$TOK_DIR"
  (cd "$TOK_DIR" && { [ -f package.json ] || npm init -y >/dev/null 2>&1; } &&
    timeout 120 npm install --no-audit --no-fund tokenizers@0.23.2 >/dev/null 2>&1)
fi
if [ ! -f "$TOK_DIR/node_modules/tokenizers/package.json" ]; then
  skip train_hf_same_ids "npm registry not reachable: could not install tokenizers@0.23.2 into $TOK_DIR"
  skip train_hf_same_decode "npm registry not reachable: could not install tokenizers@0.23.2 into $TOK_DIR"
  skip train_hf_same_merges "npm registry not reachable: could not install tokenizers@0.23.2 into $TOK_DIR"
  exit 0
fi
if ! TOK_DIR=$TOK_DIR node "$TOK_REF" "$tmp/t2.json" "$tmp/held.txt" >"$tmp/hf.ids" 2>"$tmp/log"; then
  fail train_hf_same_ids "HF could not load or encode with the trained tokenizer: $(tail -3 "$tmp/log")"
elif cmp -s "$tmp/hf.ids" "$tmp/ours.ids"; then
  pass train_hf_same_ids
else
  line=$(cmp "$tmp/hf.ids" "$tmp/ours.ids" | sed 's/.*line //')
  fail train_hf_same_ids "line ${line:-?} differs: HF $(sed -n "${line:-1}p" "$tmp/hf.ids" | cut -c1-200) vs olmo $(sed -n "${line:-1}p" "$tmp/ours.ids" | cut -c1-200)"
fi

if "$OLMO" tokenizer decode -t "$tmp/t2.json" --json "$tmp/ours.ids" >"$tmp/ours.dec" 2>"$tmp/log" &&
  TOK_DIR=$TOK_DIR node "$TOK_REF" --decode "$tmp/t2.json" "$tmp/held.txt" >"$tmp/hf.dec" 2>>"$tmp/log" &&
  cmp -s "$tmp/ours.dec" "$tmp/hf.dec"; then
  pass train_hf_same_decode
else
  fail train_hf_same_decode "olmo decode --json differs from HF decode: $(cmp "$tmp/ours.dec" "$tmp/hf.dec" 2>&1; tail -2 "$tmp/log")"
fi

# HF's trainer on a small corpus, trained to completion (its node binding only has the default trainer):
# the merge lists must be identical, rank for rank.
head -c 300000 "$CORP/gutenberg/pg1661_adventures_of_sherlock_holmes.txt" >"$tmp/small_corpus.txt"
"$OLMO" tokenizer train --vocab-size 1000000 -o "$tmp/full.json" "$tmp/small_corpus.txt" 2>/dev/null
if ! TOK_DIR=$TOK_DIR node tests/ref/hf_bpe_train.js "$tmp/hf_trained.json" "$tmp/small_corpus.txt" >/dev/null 2>&1; then
  fail train_hf_same_merges "HF's trainer failed"
else
  res=$(node tests/ref/hf_bpe_train.js --compare "$tmp/hf_trained.json" "$tmp/full.json")
  if [ $? -eq 0 ]; then pass train_hf_same_merges; else fail train_hf_same_merges "$res"; fi
fi
echo "tokenizer_train.test.sh: $((SECONDS - start)) s for training and comparisons" >&2
