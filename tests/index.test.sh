#!/usr/bin/env bash
# index.test.sh — `olmo data index|count|search|ngram` and `olmo trace` on real token files (tinyshakespeare
# tokenized with the shared gpt-neox-olmo tokenizer, two files cut mid-document, a .csv.gz beside one) against a
# brute-force scan in Python: counts (file-end-spanning, EOS-containing, most frequent token, absent), locations
# and metadata, ∞-gram next-token counts, exact and chunked builds, a trace of pasted passages; then bad input:
# truncated/foreign/missing index, wrong dtype, empty query. Protocol: PASS/FAIL/SKIP lines; $OLMO is the binary.
set -u
OLMO=${OLMO:-build/olmo}
SHARED=${OLMO_SHARED_DATA:-../shared/data}
TOK=$SHARED/tokenizers/allenai_gpt-neox-olmo-dolma-v1_5.json
TXT=$SHARED/corpora/tinyshakespeare.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS index_$1"; }
fail() { echo "FAIL index_$1: $2"; }
if [ ! -f "$TOK" ] || [ ! -f "$TXT" ]; then echo "SKIP index_real: $TOK or $TXT absent"; exit 0; fi

grep -v '^\s*$' "$TXT" | head -3000 > "$tmp/t.txt"
"$OLMO" tokenizer encode -t "$TOK" "$tmp/t.txt" > "$tmp/t.ids" || { fail tokenize "encode failed"; exit 0; }
python3 - "$tmp" <<'PY'
import json, struct, gzip, sys
d = sys.argv[1]
ids = [json.loads(l) for l in open(d + "/t.ids")]
toks, rows = [], []
for k in range(0, len(ids), 8):            # documents of 8 lines, each ending in EOS 50279
    s = len(toks)
    for l in ids[k:k + 8]: toks += l
    toks.append(50279)
    rows.append((s, len(toks), "doc%d" % (k // 8), "shakespeare", "line%d" % k))
half = len(rows) // 2
cut = rows[half][0] + 3                     # cut mid-document: a file end inside a document
open(d + "/a.npy", "wb").write(struct.pack("<%dH" % cut, *toks[:cut]))
open(d + "/b.npy", "wb").write(struct.pack("<%dH" % (len(toks) - cut), *toks[cut:]))
with gzip.open(d + "/a.csv.gz", "wt") as f:
    f.write("start,end,id,src,loc\n")
    for r in rows[:half + 1]: f.write("%d,%d,%s,%s,%s\n" % (r[0], min(r[1], cut), r[2], r[3], r[4]))
PY
"$OLMO" data index "$tmp/a.npy" "$tmp/b.npy" -o "$tmp/ix" -t "$TOK" --quiet 2> "$tmp/err" || { fail build "$(cat "$tmp/err")"; exit 0; }
"$OLMO" data index "$tmp/a.npy" "$tmp/b.npy" -o "$tmp/ixc" -t "$TOK" --quiet --chunk-tokens 20000 --max-cmp 64 \
  --threads 2 2> "$tmp/err" || { fail build_chunked "$(cat "$tmp/err")"; exit 0; }
pass build

# queries: substrings (one across the a/b file end, one containing EOS), the most frequent token, absent ids
python3 - "$tmp" > "$tmp/queries" <<'PY'
import struct, sys, random
from collections import Counter
d = sys.argv[1]
def load(p):
    b = open(p, "rb").read(); return list(struct.unpack("<%dH" % (len(b) // 2), b))
a, b = load(d + "/a.npy"), load(d + "/b.npy")
random.seed(7)
qs = []
for _ in range(40):
    f = random.choice([a, b]); m = random.randint(1, 10); p = random.randrange(len(f) - m)
    qs.append(f[p:p + m])
qs.append(a[-3:] + b[:3])                   # spans the file end: never matched there
qs.append(a[-4:])                           # ends exactly at a file end
e = a.index(50279); qs.append(a[e - 2:e + 3])   # contains EOS
qs.append([Counter(a + b).most_common(1)[0][0]])
qs.append([60000, 60001]); qs.append([17, 60000])
for q in qs: print(",".join(map(str, q)))
PY
python3 - "$tmp" > "$tmp/want" <<'PY'
import struct, sys
d = sys.argv[1]
def load(p):
    b = open(p, "rb").read(); return list(struct.unpack("<%dH" % (len(b) // 2), b))
files = [load(d + "/a.npy"), load(d + "/b.npy")]
for line in open(d + "/queries"):
    q = list(map(int, line.split(",")))
    print(sum(1 for f in files for p in range(len(f) - len(q) + 1) if f[p:p + len(q)] == q))
PY
for ix in ix ixc; do
  : > "$tmp/got.$ix"
  while read -r q; do "$OLMO" data count "$tmp/$ix" --ids "$q" >> "$tmp/got.$ix" 2>> "$tmp/err"; done < "$tmp/queries"
  if cmp -s "$tmp/want" "$tmp/got.$ix"; then pass "count_brute_force_$ix"
  else fail "count_brute_force_$ix" "$(paste "$tmp/queries" "$tmp/want" "$tmp/got.$ix" | awk '$2 != $3' | head -3)"; fi
done

# locations + metadata of one phrase, and the ∞-gram next-token counts of one context, vs the scan
"$OLMO" data search "$tmp/ix" " my lord" --max 100000 --json --context 3 > "$tmp/search.json" 2>> "$tmp/err"
python3 - "$tmp" > "$tmp/r2" <<'PY'
import json, struct, sys
d = sys.argv[1]
def load(p):
    b = open(p, "rb").read(); return list(struct.unpack("<%dH" % (len(b) // 2), b))
files = {d + "/a.npy": load(d + "/a.npy"), d + "/b.npy": load(d + "/b.npy")}
lines = [json.loads(l) for l in open(d + "/search.json")]
hits = lines[1:]
q = [619, 17991]    # " my lord"
want = sorted((p, off) for p, f in files.items() for off in range(len(f) - 1) if f[off:off + 2] == q)
got = sorted((h["file"], h["file_offset"]) for h in hits)
if lines[0]["count"] != len(want) or got != want: print("search locations %d vs %d" % (len(got), len(want)))
if not any(h.get("id", "").startswith("doc") and h.get("src") == "shakespeare" for h in hits): print("no metadata")
PY
if [ -s "$tmp/r2" ]; then fail search_brute_force "$(cat "$tmp/r2")"; else pass search_brute_force; fi

# Dolma's own metadata has no header row and Python csv's \r\n endings (spec dolma §5, and `olmo data tokens`):
# the same a.npy with such a file names the same documents
mkdir -p "$tmp/dolma"
cp "$tmp/a.npy" "$tmp/dolma/a.npy"
zcat "$tmp/a.csv.gz" | tail -n +2 | sed 's/$/\r/' | gzip > "$tmp/dolma/a.csv.gz"
if "$OLMO" data index "$tmp/dolma/a.npy" -o "$tmp/ixd" -t "$TOK" --quiet 2>> "$tmp/err" &&
   "$OLMO" data search "$tmp/ixd" " my lord" --max 100000 --json > "$tmp/sd.json" 2>> "$tmp/err" &&
   python3 -c '
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])][1:]
ok = hits and all(h.get("id", "").startswith("doc") and h.get("src") == "shakespeare" and h.get("loc", "").startswith("line") for h in hits)
sys.exit(0 if ok else 1)' "$tmp/sd.json"; then pass dolma_headerless_metadata
else fail dolma_headerless_metadata "$(tail -2 "$tmp/err") $(head -c 300 "$tmp/sd.json" 2>/dev/null)"; fi

"$OLMO" data ngram "$tmp/ix" " I will not" --top 0 --json > "$tmp/ngram.json" 2>> "$tmp/err"
ctx=$("$OLMO" data count "$tmp/ix" " I will not" --json | python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["tokens"])))')
python3 - "$tmp" "$ctx" > "$tmp/r3" <<'PY'
import json, struct, sys
from collections import Counter
d = sys.argv[1]; ctx = list(map(int, sys.argv[2].split(",")))
def load(p):
    b = open(p, "rb").read(); return list(struct.unpack("<%dH" % (len(b) // 2), b))
files = [load(d + "/a.npy"), load(d + "/b.npy")]
def occ(q): return [(f, p) for f in files for p in range(len(f) - len(q) + 1) if f[p:p + len(q)] == q]
suf = max(L for L in range(0, len(ctx) + 1) if L == 0 or occ(ctx[len(ctx) - L:]))
nxt = Counter(f[p + suf] if p + suf < len(f) else 50279 for f, p in occ(ctx[len(ctx) - suf:]))
g = json.loads(open(d + "/ngram.json").read())
got = {e["token"]: e["count"] for e in g["next"]}
if g["suffix_len"] != suf or got != dict(nxt):
    print("ngram: suffix %d vs %d, %d vs %d entries" % (g["suffix_len"], suf, len(got), len(nxt)))
PY
if [ -s "$tmp/r3" ]; then fail ngram_direct_count "$(cat "$tmp/r3")"; else pass ngram_direct_count; fi

# the link to training: the steps search reports for a hit are steps whose batch (olmo inspect batch) holds it
python3 - "$tmp" configs/olmo2-tiny.yaml <<'PY'
import sys
d, cfg = sys.argv[1], sys.argv[2]
lines = open(cfg).read().split("\n")
i = next(k for k, l in enumerate(lines) if l.strip() == "paths:")
j = i + 1
while j < len(lines) and lines[j].strip().startswith("-"): j += 1
lines[i + 1:j] = ["    - %s/a.npy" % d, "    - %s/b.npy" % d]
open(d + "/cfg.yaml", "w").write("\n".join(lines))
PY
hit=$("$OLMO" data search "$tmp/ix" " my lord" --max 1 --json --config "$tmp/cfg.yaml" 2>> "$tmp/err" | tail -1)
step=$(echo "$hit" | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps"][0])' 2>/dev/null)
if [ -n "$step" ] && "$OLMO" inspect batch "$tmp/cfg.yaml" --step "$step" --no-text --json > "$tmp/batch.json" 2>> "$tmp/err" &&
   python3 - "$hit" "$tmp/batch.json" <<'PY'
import json, sys
h = json.loads(sys.argv[1]); b = json.load(open(sys.argv[2]))
ok = any(i["index"] == h["instance"] and i["file"] == h["file"] and i["start"] <= h["file_offset"] < i["start"] + 256
         for i in b["instances"])
sys.exit(0 if ok else 1)
PY
then pass search_training_step; else fail search_training_step "hit $hit, step '$step': $(tail -2 "$tmp/err")"; fi

# trace: a text pasted from two training passages is covered by the spans found, each with documents
python3 -c 'import sys; l = open(sys.argv[1]).read().split("\n"); print(l[100] + " " + l[2200])' "$tmp/t.txt" > "$tmp/paste"
"$OLMO" trace --index "$tmp/ix" -f "$tmp/paste" --density 0 --json > "$tmp/trace.json" 2> "$tmp/err" || fail trace "$(cat "$tmp/err")"
r=$(python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
t = json.load(open(d + "/trace.json"))
lines = open(d + "/t.txt").read().split("\n")
spans = [s["text"] for s in t["spans"]]
for want in (lines[100], lines[2200]):
    words = want.split()
    # spans stop at "." and "\n" (delimiters): every inner word must lie in some span
    if not all(any(w in s for s in spans) for w in words[1:-1]): print("pasted passage not covered: %r in %r" % (want, spans))
if any(s["count"] < 1 or not s["docs"] for s in t["spans"]): print("span without documents")
PY
)
[ -z "$r" ] && pass trace_pasted_spans || fail trace_pasted_spans "$r"

# bad input: clear messages, exit 1, no crash
"$OLMO" data search "$tmp/ix" "" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "empty query" "$tmp/err" && pass empty_query || fail empty_query "rc $rc: $(cat "$tmp/err")"
cp -r "$tmp/ix" "$tmp/bad"; truncate -s -5 "$tmp/bad/shard-0000.sa"
"$OLMO" data count "$tmp/bad" --ids 1 > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "truncated" "$tmp/err" && pass truncated_index || fail truncated_index "rc $rc: $(cat "$tmp/err")"
cp "$tmp/a.npy" "$tmp/bad/shard-0000.sa"
"$OLMO" data count "$tmp/bad" --ids 1 > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "not an olmo index" "$tmp/err" && pass foreign_index || fail foreign_index "rc $rc: $(cat "$tmp/err")"
"$OLMO" data count "$tmp/nope" --ids 1 > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "not an olmo index" "$tmp/err" && pass missing_index || fail missing_index "rc $rc: $(cat "$tmp/err")"
"$OLMO" data index "$tmp/a.npy" -o "$tmp/w" --dtype uint32 --quiet > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -qi "dtype" "$tmp/err" && pass wrong_dtype || fail wrong_dtype "rc $rc: $(cat "$tmp/err")"
exit 0
