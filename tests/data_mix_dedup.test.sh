#!/usr/bin/env bash
# data_mix_dedup.test.sh — `olmo data dedup` against Dolma's expected outputs (dedupe by URL, by paragraph, by
# paragraph n-grams; the configs of Dolma's tests/config/), the Bloom file read back with read_only, mpirun -np 2
# equal to one process (a duplicate whose first copy is on the other rank is found), bad input and bad config.
# Protocol: PASS/FAIL/SKIP lines (tests/run.sh); $OLMO is the binary. Under mpirun, LeakSanitizer is off: OpenMPI
# keeps allocations past MPI_Finalize (the one-process runs still check olmo for leaks).
set -u
OLMO=${OLMO:-build/olmo}
HERE=$(cd "$(dirname "$0")" && pwd)
DOLMA=${OLMO_SHARED_DATA:-$HERE/../../shared/data}/dolma/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS dedup_$1"; }
fail() { echo "FAIL dedup_$1: $2"; }
skip() { echo "SKIP dedup_$1: $2"; }
# same A B: the same JSON lines (key order and 1 vs 1.0 aside), metadata.provenance ignored
same() { python3 "$HERE/data_mix_same.py" "$1" "$2"; }

if [ -d "$DOLMA/provided" ]; then
  cp -r "$DOLMA/provided" "$tmp/t"
  bloom='"size_in_bytes":0,"read_only":false,"estimated_doc_count":1000'
  cat > "$tmp/url.json" <<JSON
{"documents":["$tmp/t/deduper/documents/000.json.gz"],"dedupe":{"name":"dedupe_by_url","documents":{"attribute_name":"bff_duplicate_url","key":"\$.metadata.url"}},
 "bloom_filter":{"file":"$tmp/url.bin",$bloom,"desired_false_positive_rate":0.001,"sysram_limit":0.9},"processes":1}
JSON
  cat > "$tmp/par.yaml" <<YAML
documents: ["$tmp/t/deduper/documents/*.json.gz"]
dedupe: {name: dedupe_paragraphs, paragraphs: {attribute_name: bff_duplicate_paragraph_spans}}
bloom_filter: {file: "$tmp/par.bin", size_in_bytes: 0, read_only: false, estimated_doc_count: 1000, desired_false_positive_rate: 0.001}
processes: 1
YAML
  cat > "$tmp/ng.json" <<JSON
{"documents":["$tmp/t/deduper/doc*/000.json.gz"],"dedupe":{"name":"dedupe_paragraph_ngrams","paragraphs":{"attribute_name":"bff_duplicate_paragraph_spans","by_ngram":{"ngram_length":6,"stride":3,"overlap_threshold":0.5}}},
 "bloom_filter":{"file":"$tmp/ng.bin",$bloom,"desired_false_positive_rate":0.00001},"processes":1}
JSON
  for c in url.json:dedupe_by_url:dedupe-by-url par.yaml:dedupe_paragraphs:dedupe-paragraphs \
           ng.json:dedupe_paragraph_ngrams:dedupe-paragraph-ngrams; do
    IFS=: read -r cfg name exp <<<"$c"
    if ! "$OLMO" data dedup -c "$tmp/$cfg" 2>"$tmp/err"; then fail "$exp" "$(tail -3 "$tmp/err")"; continue; fi
    same "$tmp/t/deduper/attributes/$name/000.json.gz" "$DOLMA/expected/$exp.json.gz" 2>"$tmp/err" &&
      pass "$exp" || fail "$exp" "$(cat "$tmp/err")"
  done
  # read_only: the filter written above is read back; every URL is now "seen"; the filter file is unchanged
  cp "$tmp/url.bin" "$tmp/url.before"
  rm -rf "$tmp/t/deduper/attributes"
  if "$OLMO" data dedup -c "$tmp/url.json" --bloom_filter.read_only true 2>"$tmp/err" &&
     [ "$(zcat "$tmp/t/deduper/attributes/dedupe_by_url/000.json.gz" | grep -c bff_duplicate_url)" = 10 ] &&
     cmp -s "$tmp/url.bin" "$tmp/url.before"; then pass read_only_reads_back
  else fail read_only_reads_back "$(tail -3 "$tmp/err")"; fi
  # a second run over existing outputs skips them, as Dolma does
  "$OLMO" data dedup -c "$tmp/url.json" 2>"$tmp/err" && grep -q "1 skipped" "$tmp/err" && pass resumes ||
    fail resumes "$(tail -2 "$tmp/err")"
else
  skip conformance "../shared/data/dolma is absent"
fi

# MPI: rank 0 gets file 0, rank 1 file 1; b0..b2 repeat URLs first seen in file 0
mkdir -p "$tmp/mp/documents"
python3 - "$tmp/mp/documents" <<'PY'
import json, gzip, sys
d = sys.argv[1]
for n, pre, off in (("0", "a", 1), ("1", "b", 2)):
    with gzip.open(f"{d}/{n}.jsonl.gz", "wt") as f:
        for i in range(4):
            f.write(json.dumps({"id": f"{pre}{i}", "text": f"own {pre}{i}\nshared paragraph\n", "source": "s",
                                "metadata": {"url": f"u{i + off}"}}) + "\n")
PY
cat > "$tmp/mp.yaml" <<YAML
documents: ["$tmp/mp/documents/*.jsonl.gz"]
dedupe: {name: u, documents: {attribute_name: dup, key: \$.metadata.url}}
bloom_filter: {file: "$tmp/mp/u.bin", estimated_doc_count: 100, desired_false_positive_rate: 0.001, seed: 7}
YAML
"$OLMO" data dedup -c "$tmp/mp.yaml" 2>"$tmp/err" || fail mpi_one_process "$(tail -2 "$tmp/err")"
mv "$tmp/mp/attributes" "$tmp/mp/one"; mv "$tmp/mp/u.bin" "$tmp/mp/one.bin"
if ! command -v mpirun >/dev/null; then skip mpi_two_ranks "mpirun not installed"
elif ! ASAN_OPTIONS=detect_leaks=0 mpirun --allow-run-as-root --oversubscribe -np 2 "$OLMO" data dedup -c "$tmp/mp.yaml" >"$tmp/err" 2>&1; then
  fail mpi_two_ranks "$(tail -3 "$tmp/err")"
elif ! cmp -s <(zcat "$tmp/mp/one/u/1.jsonl.gz") <(zcat "$tmp/mp/attributes/u/1.jsonl.gz") ||
     ! cmp -s <(zcat "$tmp/mp/one/u/0.jsonl.gz") <(zcat "$tmp/mp/attributes/u/0.jsonl.gz"); then
  fail mpi_two_ranks "attribute files differ from one process"
elif [ "$(zcat "$tmp/mp/attributes/u/1.jsonl.gz" | grep -c '"dup":\[\[0,2,1\]\]')" != 3 ]; then
  fail mpi_two_ranks "expected b0..b2 marked (first copies on rank 0): $(zcat "$tmp/mp/attributes/u/1.jsonl.gz")"
elif ! cmp -s "$tmp/mp/one.bin" "$tmp/mp/u.bin"; then
  fail mpi_two_ranks "the final filter differs from one process"
else pass mpi_two_ranks_equal_one_process; fi

# bad input: a malformed line fails with file:line; skip_bad_lines counts it; an unknown key is refused
mkdir -p "$tmp/bad/documents"
printf '{"id":"1","text":"a"}\n{"id":"2","text":\n{"id":"3","text":"a"}\n' > "$tmp/bad/documents/x.jsonl"
cat > "$tmp/bad.yaml" <<YAML
documents: ["$tmp/bad/documents/x.jsonl"]
dedupe: {name: t, documents: {attribute_name: d, key: \$.text}}
bloom_filter: {file: "$tmp/bad/b.bin", estimated_doc_count: 10, desired_false_positive_rate: 0.01}
YAML
if "$OLMO" data dedup -c "$tmp/bad.yaml" 2>"$tmp/err"; then fail bad_line "accepted a malformed line"
elif grep -q "x.jsonl:2" "$tmp/err" && [ ! -e "$tmp/bad/attributes/t/x.jsonl" ]; then pass bad_line_names_file_and_line
else fail bad_line "$(cat "$tmp/err")"; fi
if "$OLMO" data dedup -c "$tmp/bad.yaml" --skip_bad_lines true 2>"$tmp/err" && grep -q "1 bad lines skipped" "$tmp/err" &&
   [ "$(wc -l < "$tmp/bad/attributes/t/x.jsonl")" = 2 ] && grep -q '"id":"3"' "$tmp/bad/attributes/t/x.jsonl"; then
  pass skip_bad_lines_counts
else fail skip_bad_lines "$(cat "$tmp/err")"; fi
rm -rf "$tmp/bad/attributes"
if "$OLMO" data dedup -c "$tmp/bad.yaml" --bloom_filter.read_onyl true 2>"$tmp/err"; then fail unknown_key "accepted"
elif grep -q "read_onyl" "$tmp/err"; then pass unknown_key_refused; else fail unknown_key "$(cat "$tmp/err")"; fi
