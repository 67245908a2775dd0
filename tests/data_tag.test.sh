#!/usr/bin/env bash
# data_tag.test.sh — `olmo data from-text | tag | list-taggers | stats` end to end: documents from text, Dolma's
# attributes path rule and key names, line-for-line alignment, threads and `mpirun -np 2` giving the same files
# as one process, Dolma's provided documents, bad input (file:line messages, skip with a count, no half-written
# output), unknown options and taggers. Protocol: PASS/FAIL/SKIP lines; the binary is $OLMO.
set -u
OLMO=${OLMO:-build/olmo}
SHARED=${OLMO_SHARED_DATA:-../shared/data}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# decompressed copies of every file under a folder, for comparing two runs
dump() { (cd "$1" && find . -type f | sort | while read -r f; do echo "== $f"; zcat -f "$f"; done); }

if "$OLMO" data list-taggers | grep -q '^gopher_v1 ' && "$OLMO" data list-taggers | grep -q '^cld2_en_doc_v2 '; then
  pass dtag_list_taggers; else fail dtag_list_taggers "gopher_v1 / cld2_en_doc_v2 not listed"; fi

# ---- from-text: three split modes
printf 'Para one line one.\nline two.\n\n\n  \nPara two.\n' > "$TMP/a.txt"
printf 'solo\n\nsecond\n' > "$TMP/b.txt"
D=$TMP/ds/documents
if "$OLMO" data from-text "$TMP/a.txt" "$TMP/b.txt" --destination "$D" --split blank-lines 2>"$TMP/err" &&
   [ "$(zcat "$D/a.jsonl.gz" | wc -l)" = 2 ] && [ "$(zcat "$D/b.jsonl.gz" | wc -l)" = 2 ] &&
   zcat "$D/a.jsonl.gz" | head -1 | grep -q '"id":"a-0","text":"Para one line one.\\nline two.","source":"a"'; then
  pass dtag_from_text_blank_lines
else fail dtag_from_text_blank_lines "$(cat "$TMP/err"; zcat "$D/a.jsonl.gz" 2>/dev/null | head -2)"; fi
"$OLMO" data from-text "$TMP/a.txt" --destination "$TMP/lines" --split lines --extension .jsonl --source src 2>/dev/null
if [ "$(wc -l < "$TMP/lines/a.jsonl")" = 3 ] && grep -q '"id":"src-2","text":"Para two."' "$TMP/lines/a.jsonl"; then
  pass dtag_from_text_lines; else fail dtag_from_text_lines "$(cat "$TMP/lines/a.jsonl")"; fi
printf 'ok\n\xff\xfe bad\n' > "$TMP/bad.txt"
if "$OLMO" data from-text "$TMP/bad.txt" --destination "$TMP/badout" --split lines 2>"$TMP/err"; then
  fail dtag_from_text_bad_utf8 "exit status 0"
elif grep -q "bad.txt:2" "$TMP/err" && [ ! -e "$TMP/badout/bad.jsonl.gz" ]; then pass dtag_from_text_bad_utf8
else fail dtag_from_text_bad_utf8 "$(cat "$TMP/err"; ls "$TMP/badout" 2>&1)"; fi
if "$OLMO" data from-text "$TMP/bad.txt" --destination "$TMP/badout" --split lines --skip_bad 2>"$TMP/err" &&
   [ "$(zcat "$TMP/badout/bad.jsonl.gz" | wc -l)" = 1 ] && grep -q "1 invalid UTF-8 skipped" "$TMP/err"; then
  pass dtag_from_text_skip_bad; else fail dtag_from_text_skip_bad "$(cat "$TMP/err")"; fi

# ---- tag: the attributes path rule, keys, alignment
TAGGERS=gopher_v1,c4_v2,pii_regex_v2,char_length_v1
if "$OLMO" data tag --documents "$D/*.gz" --taggers $TAGGERS --experiment ex1 2>"$TMP/err" &&
   [ -f "$TMP/ds/attributes/ex1/a.jsonl.gz" ] && [ -f "$TMP/ds/attributes/ex1/b.jsonl.gz" ]; then
  pass dtag_path_rule; else fail dtag_path_rule "$(cat "$TMP/err"; find "$TMP/ds")"; fi
ok=1
for f in a b; do
  docs=$(zcat "$D/$f.jsonl.gz" | python3 -c 'import sys,json; print(" ".join(json.loads(l)["id"] for l in sys.stdin))')
  atts=$(zcat "$TMP/ds/attributes/ex1/$f.jsonl.gz" | python3 -c 'import sys,json; print(" ".join(json.loads(l)["id"] for l in sys.stdin))')
  [ "$docs" = "$atts" ] || ok=0
done
line=$(zcat "$TMP/ds/attributes/ex1/b.jsonl.gz" | head -1)
case "$line" in
  '{"id":"b-0","attributes":{"ex1__gopher_v1__character_count":[[0,4,4.0]],'*'"ex1__char_length_v1__length":[[0,4,4.0]]},"source":"b"}') ;;
  *) ok=0 ;;
esac
if [ $ok = 1 ]; then pass dtag_keys_and_alignment; else fail dtag_keys_and_alignment "$line"; fi

# without --experiment: one attribute set per tagger, keys TAGGER__TAGGER__TYPE
if "$OLMO" data tag --documents "$D/a.jsonl.gz" --taggers char_length_v1,doc_count_v1 2>"$TMP/err" &&
   zcat "$TMP/ds/attributes/char_length_v1/a.jsonl.gz" | head -1 | grep -q '"char_length_v1__char_length_v1__length"' &&
   zcat "$TMP/ds/attributes/doc_count_v1/a.jsonl.gz" | head -1 | grep -q '"doc_count_v1__doc_count_v1__docs":\[\[0,28,1.0\]\]'; then
  pass dtag_no_experiment; else fail dtag_no_experiment "$(cat "$TMP/err"; find "$TMP/ds/attributes")"; fi
if "$OLMO" data tag --documents "$D/*.gz" --taggers char_length_v1 --experiment e2 --destination "$TMP/out" 2>"$TMP/err" &&
   [ -f "$TMP/out/e2/a.jsonl.gz" ]; then pass dtag_destination; else fail dtag_destination "$(cat "$TMP/err")"; fi

# a config file with Dolma's keys, and an unknown key
cat > "$TMP/tag.yaml" <<EOF
documents: ["$D/a.jsonl.gz"]
taggers: [char_length_v1]
experiment: fromcfg
processes: 1
EOF
if "$OLMO" data tag -c "$TMP/tag.yaml" 2>"$TMP/err" && [ -f "$TMP/ds/attributes/fromcfg/a.jsonl.gz" ]; then
  pass dtag_config_file; else fail dtag_config_file "$(cat "$TMP/err")"; fi
echo "taggerz: [x]" >> "$TMP/tag.yaml"
if "$OLMO" data tag -c "$TMP/tag.yaml" 2>"$TMP/err"; then fail dtag_unknown_key "exit status 0"
elif grep -q "tag.yaml:5" "$TMP/err" && grep -q "taggerz" "$TMP/err"; then pass dtag_unknown_key
else fail dtag_unknown_key "$(cat "$TMP/err")"; fi
if "$OLMO" data tag --documents "$D/a.jsonl.gz" --taggers no_such --experiment x 2>"$TMP/err"; then
  fail dtag_unknown_tagger "exit status 0"
elif grep -q "unknown tagger 'no_such'" "$TMP/err"; then pass dtag_unknown_tagger
else fail dtag_unknown_tagger "$(cat "$TMP/err")"; fi

# ---- bad documents: fail with file:line (no output left), or skip with a count
mkdir -p "$TMP/bad/documents"
printf '{"id":"1","text":"fine"}\n{"id":2,"text":"int id"}\nnot json\n{"id":"4","text":"fine too"}\n' > "$TMP/bad/documents/x.jsonl"
if "$OLMO" data tag --documents "$TMP/bad/documents/x.jsonl" --taggers char_length_v1 --experiment e 2>"$TMP/err"; then
  fail dtag_bad_line_fails "exit status 0"
elif grep -q "x.jsonl:2" "$TMP/err" && [ -z "$(ls -A "$TMP/bad/attributes/e" 2>/dev/null)" ]; then pass dtag_bad_line_fails
else fail dtag_bad_line_fails "$(cat "$TMP/err"; ls -la "$TMP/bad/attributes/e" 2>&1)"; fi
if "$OLMO" data tag --documents "$TMP/bad/documents/x.jsonl" --taggers char_length_v1 --experiment e --skip_bad_lines 2>"$TMP/err" &&
   [ "$(wc -l < "$TMP/bad/attributes/e/x.jsonl")" = 2 ] && grep -q "2 bad lines skipped" "$TMP/err"; then
  pass dtag_bad_line_skips; else fail dtag_bad_line_skips "$(cat "$TMP/err")"; fi
printf '\x1f\x8b\x08\x00' > "$TMP/bad/documents/t.json.gz"
if "$OLMO" data tag --documents "$TMP/bad/documents/t.json.gz" --taggers char_length_v1 --experiment e 2>"$TMP/err"; then
  fail dtag_truncated_gz "exit status 0"
elif grep -q "t.json.gz" "$TMP/err" && grep -qi "truncated\|bad gzip" "$TMP/err"; then pass dtag_truncated_gz
else fail dtag_truncated_gz "$(cat "$TMP/err")"; fi

# ---- stats
if "$OLMO" data stats --documents "$D/*.gz" --attributes ex1 --json > "$TMP/stats.json" 2>"$TMP/err" &&
   python3 -c '
import json,sys
s=json.load(open(sys.argv[1]))
assert s["documents"]==4, s
assert s["sources"]["a"]["documents"]==2 and s["sources"]["b"]["characters"]==10, s
assert s["attributes"]["ex1__char_length_v1__length"]["spans"]==4, s
' "$TMP/stats.json"; then pass dtag_stats_json; else fail dtag_stats_json "$(cat "$TMP/err" "$TMP/stats.json")"; fi
zcat "$TMP/ds/attributes/ex1/a.jsonl.gz" | head -1 > "$TMP/short.jsonl"
mkdir -p "$TMP/ds/attributes/short"; gzip -c "$TMP/short.jsonl" > "$TMP/ds/attributes/short/a.jsonl.gz"
if "$OLMO" data stats --documents "$D/a.jsonl.gz" --attributes short 2>"$TMP/err" >/dev/null; then
  fail dtag_stats_out_of_step "exit status 0"
elif grep -q "out of step" "$TMP/err"; then pass dtag_stats_out_of_step
else fail dtag_stats_out_of_step "$(cat "$TMP/err")"; fi

# ---- threads and MPI give the same files as one process
mkdir -p "$TMP/par/documents"
for i in 0 1 2 3 4; do
  "$OLMO" data from-text "$TMP/a.txt" --destination "$TMP/par/documents" --split lines --source "s$i" 2>/dev/null
  mv "$TMP/par/documents/a.jsonl.gz" "$TMP/par/documents/f$i.jsonl.gz"
done
ALL=gopher_v1,c4_v1,c4_v2,pii_regex_v1,pii_regex_with_counts_fast_v2,cld2_en_paragraph_with_doc_score_v2,whitespace_tokenizer_with_paragraphs_v1,repetitions_v1,random_number_v1
"$OLMO" data tag --documents "$TMP/par/documents/*.gz" --taggers $ALL --experiment one --processes 1 2>/dev/null
"$OLMO" data tag --documents "$TMP/par/documents/*.gz" --taggers $ALL --experiment one --processes 3 --destination "$TMP/par3" 2>/dev/null
if [ "$(dump "$TMP/par/attributes/one")" = "$(dump "$TMP/par3/one")" ] && [ -n "$(dump "$TMP/par3/one")" ]; then
  pass dtag_threads_match_one; else fail dtag_threads_match_one "outputs differ"; fi
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIP dtag_mpirun_np2: mpirun not installed (OpenMPI)"
else
  ASAN_OPTIONS=detect_leaks=0 OMP_NUM_THREADS=1 mpirun -np 2 --oversubscribe --allow-run-as-root \
    "$OLMO" data tag --documents "$TMP/par/documents/*.gz" --taggers $ALL --experiment one --destination "$TMP/mpi" \
    >"$TMP/mpi.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] && grep -q "built without MPI" "$TMP/mpi.log"; then echo "SKIP dtag_mpirun_np2: olmo built without MPI"
  elif [ $rc -eq 0 ] && [ "$(dump "$TMP/par/attributes/one")" = "$(dump "$TMP/mpi/one")" ] && grep -q "tagged 15 documents" "$TMP/mpi.log"; then
    pass dtag_mpirun_np2
  else fail dtag_mpirun_np2 "rc $rc: $(tail -5 "$TMP/mpi.log")"; fi
fi

# ---- Dolma's provided documents (10 CC docs): tagged line for line
P=$SHARED/dolma/tests/data/provided/documents/000.json.gz
if [ ! -f "$P" ]; then
  echo "SKIP dtag_dolma_provided: $P not found (set OLMO_SHARED_DATA)"
else
  mkdir -p "$TMP/dolma/documents"; cp "$P" "$TMP/dolma/documents/"
  if "$OLMO" data tag --documents "$TMP/dolma/documents/*.gz" --taggers $ALL --experiment x 2>"$TMP/err" &&
     [ "$(zcat "$TMP/dolma/attributes/x/000.json.gz" | wc -l)" = 10 ] &&
     python3 -c '
import json,gzip,sys
d=[json.loads(l) for l in gzip.open(sys.argv[1])]
a=[json.loads(l) for l in gzip.open(sys.argv[2])]
for x,y in zip(d,a):
    assert x["id"]==y["id"] and x["source"]==y["source"]
    n=len(x["text"])
    assert y["attributes"]["x__gopher_v1__character_count"]==[[0,n,float(n)]], (n, y["attributes"]["x__gopher_v1__character_count"])
    for k,v in y["attributes"].items():
        for s,e,_ in v: assert 0<=s<=e<=n, (k,s,e,n)
' "$TMP/dolma/documents/000.json.gz" "$TMP/dolma/attributes/x/000.json.gz"; then
    pass dtag_dolma_provided
  else fail dtag_dolma_provided "$(cat "$TMP/err")"; fi
fi
