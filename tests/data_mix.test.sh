#!/usr/bin/env bash
# data_mix.test.sh — `olmo data mix` against Dolma's expected outputs (mixer, email spans with JSONPath and with
# jq, filter by spans, remove paragraphs; the configs of Dolma's tests/config/), byte-identical re-mixing of a real
# Dolma mixer output, mpirun -np 2 equal to one process, and bad input (attributes out of step, mismatched ids,
# bad filter). Protocol: PASS/FAIL/SKIP lines (tests/run.sh); $OLMO is the binary.
set -u
OLMO=${OLMO:-build/olmo}
HERE=$(cd "$(dirname "$0")" && pwd)
DOLMA=${OLMO_SHARED_DATA:-$HERE/../../shared/data}/dolma/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS mix_$1"; }
fail() { echo "FAIL mix_$1: $2"; }
skip() { echo "SKIP mix_$1: $2"; }
same() { python3 "$HERE/data_mix_same.py" "$1" "$2"; }

if [ ! -d "$DOLMA/provided" ]; then
  skip conformance "../shared/data/dolma is absent"
else
  T=$tmp/t
  cp -r "$DOLMA/provided" "$T"
  cat > "$tmp/mixer.json" <<JSON
{"streams":[{"name":"mixer-test","documents":["$T/documents/*.gz"],"output":{"path":"$T/out/mixer","max_size_in_bytes":100000},
 "attributes":["pii","toxicity"],"filter":{"include":["\$.metadata[?(@.length < 10000)]"],"exclude":["\$.metadata[?(@.length < 500)]","\$.attributes[?(@.pii.too_much_pii == true)]","\$.attributes[?(@.toxicity > 0.8)]"]}}],"processes":1}
JSON
  cat > "$tmp/email.json" <<JSON
{"streams":[{"name":"email-spans","documents":["$T/documents/*.json.gz"],"output":{"path":"$T/out/email-spans","max_size_in_bytes":100000},
 "attributes":["pii"],"span_replacement":[{"span":"\$.attributes.pii.email","min_score":0.5,"replacement":"[B-EMAIL]{}[E-EMAIL]"},{"span":"\$.attributes.pii.company_name","min_score":0.5,"replacement":""}]}],"processes":1}
JSON
  cat > "$tmp/emailjq.yaml" <<YAML
streams:
 - name: email-spans-jq
   documents:
     - $T/documents/*.json.gz
   output: {max_size_in_bytes: 100000, path: $T/out/email-spans-jq}
   attributes: [pii]
   span_replacement:
     - {min_score: 0.5, max_score: 0.9, replacement: '[B-EMAIL]{}[E-EMAIL]', span: .attributes?.pii?.email?, syntax: jq}
     - {min_score: 0.5, max_score: 0.9, replacement: '', span: .attributes?.pii?.company_name?, syntax: jq}
processes: 1
YAML
  cat > "$tmp/fbs.json" <<JSON
{"streams":[{"name":"filter-by-spans-test","documents":["$T/documents/000.json.gz"],"output":{"path":"$T/out/filter-by-spans","max_size_in_bytes":100000,"discard_fields":["attributes","metadata","added","created"]},
 "attributes":["sample"],"filter":{"include":["\$.attributes[?(@.sample__random_number_v1__random[0][2] < 0.5)]"],"exclude":["\$.attributes[?(@.dummy && @.dummy[0] && @.dummy[0][2] > 0.5)]"]}}],"processes":1}
JSON
  cat > "$tmp/rp.json" <<JSON
{"streams":[{"name":"paragraph-spans-test","documents":["$T/documents/*"],"output":{"path":"$T/out/paragraph-spans","max_size_in_bytes":100000},
 "attributes":["duplicate_paragraphs"],"span_replacement":[{"span":"\$.attributes.bff_duplicate_paragraph_spans","min_score":0.5,"replacement":""}]}],"processes":1}
JSON
  for c in mixer.json:mixer/mixer-test:mixer email.json:email-spans/email-spans:email-spans \
           emailjq.yaml:email-spans-jq/email-spans-jq:email-spans-jq fbs.json:filter-by-spans/filter-by-spans-test:filter-by-spans \
           rp.json:paragraph-spans/paragraph-spans-test:remove-paragraphs; do
    IFS=: read -r cfg out exp <<<"$c"
    if ! "$OLMO" data mix -c "$tmp/$cfg" 2>"$tmp/err"; then fail "$exp" "$(tail -3 "$tmp/err")"; continue; fi
    # one shard, so it is the last one and takes Dolma's ".json.gz" name
    same "$T/out/$out-0000.json.gz" "$DOLMA/expected/$exp.json.gz" 2>"$tmp/err" && pass "$exp" || fail "$exp" "$(cat "$tmp/err")"
  done
  # a real Dolma mixer output mixed again comes out byte for byte (sorted keys, compact, floats), provenance aside
  M=$DOLMA/multiple_files
  if "$OLMO" data mix --streams "[{name: pt, documents: [\"$M/cc_en_head-0091.jsonl.gz\"], output: {path: \"$tmp/pt\"}, filter: {include: [\"\$.id\"]}}]" 2>"$tmp/err" &&
     cmp -s <(zcat "$tmp/pt/pt-0000.json.gz" | sed 's/"provenance":"[^"]*"/"provenance":"X"/') \
            <(sed 's/"provenance":"[^"]*"/"provenance":"X"/' "$M/cc_en_head-0091.jsonl"); then
    pass remix_byte_identical_to_dolma
  else fail remix_byte_identical "$(tail -2 "$tmp/err")"; fi
  # provenance is "<input basename>:<line>"
  zcat "$tmp/pt/pt-0000.json.gz" | sed -n 3p | grep -q '"provenance":"cc_en_head-0091.jsonl.gz:3"' && pass provenance ||
    fail provenance "$(zcat "$tmp/pt/pt-0000.json.gz" | sed -n 3p | grep -o '"provenance":"[^"]*"')"
fi

# shards and MPI: 4 small files, a size cap that closes a shard every 2 files; 2 ranks = 1 process
mkdir -p "$tmp/m/documents"
python3 - "$tmp/m/documents" <<'PY'
import json, gzip, sys
for f in range(4):
    with gzip.open(f"{sys.argv[1]}/{f}.jsonl.gz", "wt") as out:
        for i in range(5):
            out.write(json.dumps({"id": f"{f}-{i}", "text": f"doc {f} {i} " + "x" * (i * 40), "source": "t"}) + "\n")
PY
sz=$(stat -c %s "$tmp/m/documents/0.jsonl.gz")
for out in one two; do
  cat > "$tmp/m/$out.yaml" <<YAML
streams:
  - name: s
    documents: ["$tmp/m/documents/*.jsonl.gz"]
    output: {path: "$tmp/m/$out", max_size_in_bytes: $((sz * 2 + 1)), min_text_length: 60}
    filter: {include: ['.id | endswith("-0") | not'], syntax: jq}
YAML
done
"$OLMO" data mix -c "$tmp/m/one.yaml" 2>"$tmp/err" || fail shards "$(tail -2 "$tmp/err")"
# closed shards are "-NNNN.jsonl.gz", the last one "-NNNN.json.gz" (Dolma's naming)
names=$(ls "$tmp/m/one" | tr '\n' ' ')
if [[ "$names" =~ ^s-0000.jsonl.gz\ (s-000[0-9].jsonl.gz\ )*s-000[1-9].json.gz\ $ ]]; then pass shard_names_as_dolma
else fail shard_names "$(ls "$tmp/m/one")"; fi
grep -q "20 documents in (0 bad lines skipped), 12 out, 4 removed by filters, 4 below min_text_length" "$tmp/err" &&
  pass stats_count_every_document || fail stats "$(tail -1 "$tmp/err")"
if ! command -v mpirun >/dev/null; then skip mpi_two_ranks "mpirun not installed"
elif ! ASAN_OPTIONS=detect_leaks=0 mpirun --allow-run-as-root --oversubscribe -np 2 "$OLMO" data mix -c "$tmp/m/two.yaml" >"$tmp/err" 2>&1; then
  fail mpi_two_ranks "$(tail -3 "$tmp/err")"
elif [ "$(ls "$tmp/m/two" | tr '\n' ' ')" != "$names" ]; then fail mpi_two_ranks "shards $(ls "$tmp/m/two") vs $names"
else
  ok=1
  for f in "$tmp"/m/one/*; do cmp -s <(zcat "$f") <(zcat "$tmp/m/two/$(basename "$f")") || ok=0; done
  [ $ok = 1 ] && pass mpi_two_ranks_equal_one_process || fail mpi_two_ranks "shard contents differ"
fi

# bad input: an attribute file out of step, a mismatched id, an unknown filter function — each named, no output left
mkdir -p "$tmp/b/documents" "$tmp/b/attributes/a"
printf '{"id":"1","text":"a"}\n{"id":"2","text":"b"}\n' > "$tmp/b/documents/x.jsonl"
printf '{"id":"1","attributes":{}}\n' > "$tmp/b/attributes/a/x.jsonl"
cat > "$tmp/b.yaml" <<YAML
streams: [{name: b, documents: ["$tmp/b/documents/x.jsonl"], attributes: [a], output: {path: "$tmp/b/out"}, filter: {include: [\$.id]}}]
YAML
if "$OLMO" data mix -c "$tmp/b.yaml" 2>"$tmp/err"; then fail attributes_out_of_step "accepted"
elif grep -q "out of step" "$tmp/err" && [ -z "$(ls "$tmp/b/out" 2>/dev/null)" ]; then pass attributes_out_of_step_refused
else fail attributes_out_of_step "$(cat "$tmp/err")"; fi
printf '{"id":"1","attributes":{}}\n{"id":"3","attributes":{}}\n' > "$tmp/b/attributes/a/x.jsonl"
if "$OLMO" data mix -c "$tmp/b.yaml" 2>"$tmp/err"; then fail mismatched_ids "accepted"
elif grep -q "mismatched ids" "$tmp/err" && grep -q "x.jsonl:2" "$tmp/err"; then pass mismatched_ids_refused
else fail mismatched_ids "$(cat "$tmp/err")"; fi
if "$OLMO" data mix --streams "[{name: b, documents: [\"$tmp/b/documents/x.jsonl\"], output: {path: \"$tmp/b/out\"}, filter: {include: ['\$.attributes[?(@.x >)]']}}]" 2>"$tmp/err"; then
  fail bad_filter "accepted"
elif grep -q "column" "$tmp/err"; then pass bad_filter_names_column; else fail bad_filter "$(cat "$tmp/err")"; fi
