#!/usr/bin/env bash
# tokenizer_hf.test.sh — olmo's tokenizer against Hugging Face `tokenizers` 0.23.2 itself (npm package, official
# Node binding of the Rust core), installed on first use into build/npm. SKIPs, saying why, when node/npm or
# the registry is unavailable, or ../shared/data is absent.
#   1. decode: for every vector file, HF's decode (../shared/tools/tok_ref.js --decode) == `olmo tokenizer
#      decode --json` of the vector's ids;
#   2. decode of random id sequences (partial UTF-8 byte tokens, special and added tokens), with and without
#      skip_special_tokens;
#   3. encode: corpus lines, `olmo tokenizer encode` == tok_ref.js (a sample; whole corpora with OLMO_SLOW=1).
set -u
OLMO=${OLMO:-build/olmo}
SHARED=${OLMO_SHARED_DATA:-../shared/data}
TOOLS=$(dirname "$SHARED")/tools
NPM_DIR=${OLMO_NPM_DIR:-$PWD/build/npm}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
TESTS="tokhf_decode_vectors tokhf_decode_random_ids tokhf_encode_corpora"
skip_all() { for t in $TESTS; do echo "SKIP $t: $1"; done; exit 0; }

[ -d "$SHARED/tokenizer-vectors/vectors" ] || skip_all "$SHARED/tokenizer-vectors not found (set OLMO_SHARED_DATA)"
[ -f "$TOOLS/tok_ref.js" ] || skip_all "$TOOLS/tok_ref.js not found"
command -v node >/dev/null && command -v npm >/dev/null || skip_all "node/npm not installed"
if [ ! -d "$NPM_DIR/node_modules/tokenizers" ]; then
  mkdir -p "$NPM_DIR"
  ( cd "$NPM_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    timeout 180 npm install --no-audit --no-fund tokenizers@0.23.2 >"$TMP/npm.log" 2>&1 ) ||
    skip_all "could not npm install tokenizers@0.23.2 (no network?): $(tail -1 "$TMP/npm.log" 2>/dev/null)"
fi
export TOK_DIR=$NPM_DIR
node -e "require('$NPM_DIR/node_modules/tokenizers')" 2>/dev/null || skip_all "the tokenizers npm package does not load on this machine"

# HF outputs are deterministic: keep them in build/npm/hf-cache keyed by the command and its input files, so
# the sanitizer run of the suite (and reruns) don't start node again.
hf_run() {   # OUT CMD... : CMD's stdout into OUT
  local out=$1; shift
  local key
  key=$( { printf '%s\n' "${@//$TMP/TMP}"; for a in "$@"; do [ -f "$a" ] && cat "$a"; done; } | md5sum | cut -c1-32)
  local c=$NPM_DIR/hf-cache/$key
  if [ -f "$c" ]; then cp "$c" "$out"; return 0; fi
  "$@" > "$out" || return 1
  mkdir -p "$NPM_DIR/hf-cache" && cp "$out" "$c.tmp.$$" && mv "$c.tmp.$$" "$c"
}

TOKS="allenai_dolma2 allenai_gpt-neox-olmo-dolma-v1_5 allenai_eleuther-ai-gpt-neox-20b-pii-special"

# 1. decode of every vector file's ids
ok=1; n=0
for v in "$SHARED"/tokenizer-vectors/vectors/*.jsonl; do
  tok=$(basename "$v" | sed 's/__.*//')
  tj=$SHARED/tokenizers/$tok.json
  hf_run "$TMP/ids.txt" node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) if (l.trim()) console.log(JSON.stringify(JSON.parse(l).ids))' "$v"
  hf_run "$TMP/hf.txt" node "$TOOLS/tok_ref.js" --mode jsonl:text --decode "$tj" "$v" 2>"$TMP/err" || { ok=0; echo "FAIL tokhf_decode_vectors: tok_ref.js failed: $(tail -1 "$TMP/err")"; break; }
  "$OLMO" tokenizer decode --json -t "$tj" "$TMP/ids.txt" > "$TMP/ours.txt" 2>"$TMP/err" || { ok=0; echo "FAIL tokhf_decode_vectors: $(cat "$TMP/err")"; break; }
  if ! cmp -s "$TMP/hf.txt" "$TMP/ours.txt"; then
    ok=0; echo "FAIL tokhf_decode_vectors: $(basename "$v"): first difference at line $(cmp "$TMP/hf.txt" "$TMP/ours.txt" | sed 's/.*line //')"; break
  fi
  n=$((n + $(wc -l < "$TMP/ids.txt")))
done
[ $ok = 1 ] && echo "PASS tokhf_decode_vectors ($n id lists)"

# 2. decode of random ids, HF's decode(ids, skip) called directly
cat > "$TMP/rand.js" <<'JS'
const fs = require('fs'), path = require('path');
const { Tokenizer } = require(path.join(process.env.TOK_DIR, 'node_modules', 'tokenizers'));
const [tokPath, skip] = process.argv.slice(2);   // prints "ids<TAB>decoded" lines
const t = Tokenizer.fromFile(tokPath);
const V = t.getVocabSize(true);
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const byteTok = [];   // ids of single-byte tokens >= 0x80 (partial UTF-8 when alone)
for (const [tok, id] of Object.entries(t.getVocab(true))) if ([...tok].length === 1 && tok.codePointAt(0) >= 0x80 && tok.codePointAt(0) < 0x144) byteTok.push(id);
const ids = [], outs = [];
(async () => {
  for (let i = 0; i < 400; i++) {
    const n = rnd(12), a = [];
    for (let k = 0; k < n; k++) {
      const r = rnd(10);
      a.push(r < 4 ? byteTok[rnd(byteTok.length)] : r < 5 ? V - 1 - rnd(30) : r < 6 ? rnd(30) : rnd(V));
    }
    ids.push(JSON.stringify(a));
    outs.push(JSON.stringify(await t.decode(a, skip === '1')));
  }
  process.stdout.write(ids.map((x, i) => x + '\t' + outs[i]).join('\n') + '\n');
})();
JS
ok=1
for tok in $TOKS; do
  tj=$SHARED/tokenizers/$tok.json
  for skip in 0 1; do
    hf_run "$TMP/both.txt" node "$TMP/rand.js" "$tj" $skip 2>"$TMP/err" || { ok=0; echo "FAIL tokhf_decode_random_ids: node: $(tail -2 "$TMP/err")"; break 2; }
    cut -f1 "$TMP/both.txt" > "$TMP/rids.txt"; cut -f2- "$TMP/both.txt" > "$TMP/hf.txt"
    flag=; [ $skip = 1 ] && flag=--skip-special
    "$OLMO" tokenizer decode --json $flag -t "$tj" "$TMP/rids.txt" > "$TMP/ours.txt"
    if ! cmp -s "$TMP/hf.txt" "$TMP/ours.txt"; then
      l=$(cmp "$TMP/hf.txt" "$TMP/ours.txt" | sed 's/.*line //')
      ok=0; echo "FAIL tokhf_decode_random_ids: $tok skip=$skip line $l: ids $(sed -n "${l}p" "$TMP/rids.txt") HF $(sed -n "${l}p" "$TMP/hf.txt") ours $(sed -n "${l}p" "$TMP/ours.txt")"; break 2
    fi
  done
done
[ $ok = 1 ] && echo "PASS tokhf_decode_random_ids"

# 3. encode corpus lines
if [ "${OLMO_SLOW:-0}" = 1 ]; then LINES=1000000000; ULINES=1000000000; UTAIL=1000000000; else LINES=200; ULINES=12; UTAIL=4; fi
: > "$TMP/corpus.txt"
for f in "$SHARED"/corpora/wikitext2/wiki.test.raw.noblank.txt "$SHARED"/corpora/tinystories/tinystories_valid_head.txt \
         "$SHARED"/corpora/speeches/state_union.txt "$SHARED"/corpora/gutenberg/pg2600_war_and_peace.txt \
         "$SHARED"/tokenizer-vectors/udhr/*.txt; do
  [ -f "$f" ] || continue
  case $f in */udhr/*) head -n $ULINES "$f" | tail -n $UTAIL >> "$TMP/corpus.txt" ;; *) head -n $LINES "$f" >> "$TMP/corpus.txt" ;; esac
done
ok=1
for tok in allenai_dolma2 allenai_gpt-neox-olmo-dolma-v1_5; do
  tj=$SHARED/tokenizers/$tok.json
  hf_run "$TMP/hf.txt" node "$TOOLS/tok_ref.js" "$tj" "$TMP/corpus.txt" 2>"$TMP/err" || { ok=0; echo "FAIL tokhf_encode_corpora: tok_ref.js: $(tail -1 "$TMP/err")"; break; }
  "$OLMO" tokenizer encode -t "$tj" "$TMP/corpus.txt" > "$TMP/ours.txt"
  if ! cmp -s "$TMP/hf.txt" "$TMP/ours.txt"; then
    l=$(cmp "$TMP/hf.txt" "$TMP/ours.txt" | sed 's/.*line //')
    ok=0; echo "FAIL tokhf_encode_corpora: $tok line $l: $(sed -n "${l}p" "$TMP/corpus.txt" | head -c 100)"; break
  fi
done
[ $ok = 1 ] && echo "PASS tokhf_encode_corpora ($(wc -l < "$TMP/corpus.txt") lines, $(wc -c < "$TMP/corpus.txt") bytes)"
