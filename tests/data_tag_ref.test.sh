#!/usr/bin/env bash
# data_tag_ref.test.sh — conformance of the taggers with tests/ref/dolma_taggers_ref.py (plain Python with the
# str / re semantics Dolma's taggers run on): the attribute files olmo writes must equal the reference's byte
# for byte on hand-built edge cases (Unicode whitespace and letters, offsets beyond the BMP, emails, phones,
# IPv4, repetitions, bullets, duplicates, empty texts), Dolma's provided CC documents and a text corpus.
set -u
OLMO=${OLMO:-build/olmo}
SHARED=${OLMO_SHARED_DATA:-../shared/data}
REF=$(cd "$(dirname "$0")" && pwd)/ref/dolma_taggers_ref.py
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
export NAUGHTY_WORDS=$SHARED/dolma/python/dolma/data/naughty_words_en.txt
if ! python3 -c 'import regex' 2>/dev/null; then echo "SKIP dtagref_all: python3 'regex' module missing"; exit 0; fi
if [ ! -f "$NAUGHTY_WORDS" ]; then echo "SKIP dtagref_all: $NAUGHTY_WORDS not found (set OLMO_SHARED_DATA)"; exit 0; fi
mkdir -p "$TMP/d/documents"
python3 - "$TMP/d/documents/edge.jsonl" <<'PY'
import json, sys
texts = [
    "", " ", "\n", "a", "\n\n\nx\n", "The cat sat with the hat and the bat.\n* one\n- two\n* three",
    "héllo wörld — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 text\u00a0with\u3000odd\u2028spaces\x1fand\x85more",
    "Contact: jane.doe@example.org (or j@x.y) today!\n(@bad.com and x@nodot please\nmail: a@b.co",
    "Call me at (555) 123-4567 or 555.123.4567, ISBN 555 123 4567; doi 555 123 4567\n #tag 555 123 4567",
    "hosts 10.0.0.1, 256.300.1.1, 1.2.3.4.5 and 192.168.001.010 done",
    "abcabcabcabc and xyxyxyxy and héhéhéhé zzzz\nha ha ha ha ha\n",
    "dup line\ndup line\ndup line\nother…\nmore…\n",
    "Lorem Ipsum dolor {sit} amet. JavaScript is nice.\nenable javascript",
    "What a BOLLOCKS idea.\nThey said 2 girls 1 cup was bad.",
    "ٱلْعَرَبِيَّةُ ٤٥٦ ١٢٣ ٧٨٩٠ ١٢٣٤ end",
    " ".join(["the word"] * 40) + "\n" + " ".join(str(i) for i in range(100)),
    "İstanbul ǅemal ΣΑΣ ß straße\n\tTabbed line.\n",
    "one two three four five six seven eight nine ten eleven " * 3,
    "?" * 20 + " a@b.com " + "x" * 5,
]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i, t in enumerate(texts):
        f.write(json.dumps({"id": f"e{i}", "text": t, "source": "edge"}, ensure_ascii=False) + "\n")
PY
P=$SHARED/dolma/tests/data/provided/documents/000.json.gz
[ -f "$P" ] && cp "$P" "$TMP/d/documents/cc.json.gz"
C=$SHARED/corpora/tinyshakespeare.txt
if [ -f "$C" ]; then
  head -c 200000 "$C" > "$TMP/shakes.txt"
  "$OLMO" data from-text "$TMP/shakes.txt" --destination "$TMP/d/documents" --split blank-lines --extension .jsonl 2>/dev/null
fi
GROUPS_="gopher_v1 c4_v1,c4_v2 pii_regex_v1,pii_regex_v2,pii_regex_with_counts_v2,pii_regex_with_counts_fast_v2
char_length_v1,char_length_strip_ws_v1,bytes_length_v1,doc_count_v1,char_length_with_paragraphs_v1,whitespace_tokenizer_v1,whitespace_tokenizer_with_paragraphs_v1
repetitions_v1,paragraph_repetitions_v1"
for g in $GROUPS_; do
  name=dtagref_$(echo "$g" | cut -d, -f1)
  if ! "$OLMO" data tag --documents "$TMP/d/documents/*" --taggers "$g" --experiment ref --destination "$TMP/out" 2>"$TMP/err"; then
    fail_msg=$(tail -3 "$TMP/err"); echo "FAIL $name: olmo data tag failed: $fail_msg"; continue
  fi
  ok=1; why=
  for f in "$TMP"/d/documents/*; do
    b=$(basename "$f")
    python3 "$REF" "$f" ref "$g" > "$TMP/want" 2>"$TMP/referr" || { ok=0; why="reference failed: $(tail -2 "$TMP/referr")"; break; }
    zcat -f "$TMP/out/ref/$b" > "$TMP/got"
    if ! cmp -s "$TMP/want" "$TMP/got"; then
      ok=0
      why="$b: $(diff <(tr ',' '\n' < "$TMP/want") <(tr ',' '\n' < "$TMP/got") | head -6 | tr '\n' ' ')"
      break
    fi
  done
  if [ $ok = 1 ]; then echo "PASS $name"; else echo "FAIL $name: $why"; fi
done
