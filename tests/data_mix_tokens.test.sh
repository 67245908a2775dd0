#!/usr/bin/env bash
# data_mix_tokens.test.sh — `olmo data tokens`: the .npy + .csv.gz layout of `dolma tokens` (rows consistent with
# the arrays, max_size splits, strip / empty / EOS rules), ids equal to Hugging Face tokenizers
# (../shared/tools/tok_ref.js, when node and the npm package are there), deterministic output, mpirun -np 2 equal
# to one process, `olmo train` training on the files, bad input. Protocol: PASS/FAIL/SKIP lines; $OLMO the binary.
set -u
OLMO=${OLMO:-build/olmo}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${OLMO_SHARED_DATA:-$HERE/../../shared/data}
TOOLS=$(dirname "$SHARED")/tools
NPM_DIR=${OLMO_NPM_DIR:-$HERE/../build/npm}
TOK=$SHARED/tokenizers/allenai_gpt-neox-olmo-dolma-v1_5.json
DOLMA=$SHARED/dolma/tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS tokens_$1"; }
fail() { echo "FAIL tokens_$1: $2"; }
skip() { echo "SKIP tokens_$1: $2"; }
if [ ! -f "$TOK" ] || [ ! -d "$DOLMA/provided" ]; then skip all "../shared/data (tokenizers, dolma) is absent"; exit 0; fi

# inputs: Dolma's 10 documents, and hand-made edge cases (whitespace to strip, blank, an EOS already at the end,
# non-ASCII, a bad line further down in another file)
mkdir -p "$tmp/in/documents"
cp "$DOLMA/provided/documents/000.json.gz" "$tmp/in/documents/a.json.gz"
python3 - "$tmp/in/documents" <<'PY'
import json, sys
docs = [{"id": "s1", "text": "  \n Hello world.\t\n"}, {"id": "s2", "text": " \u3000\n "},
        {"id": "s3", "text": "ends with eos<|endoftext|>"}, {"id": "s4", "text": "naïve café — 東京 🙂\u00a0"},
        {"id": "s5,\"q\"", "text": "an id that needs CSV quoting"}]
with open(f"{sys.argv[1]}/b.jsonl", "w") as f:
    for d in docs: f.write(json.dumps(d) + "\n")
PY
args=(--tokenizer.name_or_path "$TOK" --max_size 4000)
if ! "$OLMO" data tokens --documents "$tmp/in/documents/*" --destination "$tmp/out" "${args[@]}" 2>"$tmp/err"; then
  fail runs "$(tail -3 "$tmp/err")"; exit 0
fi
grep -q "15 documents in (0 bad lines skipped, 1 empty skipped), 14 written" "$tmp/err" && pass stats_count_every_document ||
  fail stats "$(tail -1 "$tmp/err")"

# layout: rows tile each array exactly, every doc ends with EOS 50279, files < max_size, loc/src/id right
python3 - "$tmp/out" "$tmp/in/documents" > "$tmp/docs.jsonl" 2>"$tmp/err" <<'PY'
import csv, gzip, json, os, sys
from array import array
out, src = sys.argv[1], sys.argv[2]
rows = []
for name in sorted(os.listdir(out)):
    if not name.endswith(".npy"): continue
    ids = array("H"); ids.frombytes(open(f"{out}/{name}", "rb").read())
    assert len(ids) < 4000, f"{name}: {len(ids)} tokens, max_size 4000"
    raw = gzip.open(f"{out}/{name[:-4]}.csv.gz", "rb").read()
    assert raw.endswith(b"\r\n"), "csv rows end with \\r\\n"
    prev = 0
    for r in csv.reader(raw.decode().splitlines()):
        s, e = int(r[0]), int(r[1])
        assert s == prev, f"{name}: row starts at {s}, previous ended at {prev}"
        assert ids[e - 1] == 50279, f"{name}: document {r[2]} does not end with EOS"
        rows.append({"id": r[2], "src": r[3], "loc": int(r[4]), "ids": list(ids[s:e])})
        prev = e
    assert prev == len(ids), f"{name}: rows cover {prev} of {len(ids)} tokens"
texts = {}
for f in ("a.json.gz", "b.jsonl"):
    op = gzip.open if f.endswith(".gz") else open
    for i, l in enumerate(op(f"{src}/{f}", "rt"), 1):
        texts[(f, i)] = json.loads(l)
assert [r["id"] for r in rows[-4:]] == ["s1", "s3", "s4", 's5,"q"'], [r["id"] for r in rows[-4:]]
for r in rows:
    d = texts[(os.path.basename(r["src"]), r["loc"])]
    assert d["id"] == r["id"], (d["id"], r["id"])
    print(json.dumps({"text": d["text"].strip(), "ids": r["ids"]}))
PY
[ $? = 0 ] && pass layout_rows_eos_max_size || fail layout "$(tail -3 "$tmp/err")"
grep -q '"ids": \[.*50279\]' "$tmp/docs.jsonl" && ! grep -q '50279, 50279\]' "$tmp/docs.jsonl" && pass no_double_eos ||
  fail no_double_eos "a document ending in <|endoftext|> got a second EOS"

# ids equal Hugging Face tokenizers (tok_ref.js) on text.strip() + EOS
if [ -f "$TOOLS/tok_ref.js" ] && command -v node >/dev/null && [ -d "$NPM_DIR/node_modules/tokenizers" ]; then
  if TOK_DIR=$NPM_DIR node "$TOOLS/tok_ref.js" --mode jsonl:text "$TOK" "$tmp/docs.jsonl" > "$tmp/hf.txt" 2>"$tmp/err" &&
     python3 - "$tmp/docs.jsonl" "$tmp/hf.txt" <<'PY'
import json, sys
ours = [json.loads(l)["ids"] for l in open(sys.argv[1])]
hf = [json.loads(l) for l in open(sys.argv[2])]
hf = [h if h and h[-1] == 50279 else h + [50279] for h in hf]
bad = [i for i, (a, b) in enumerate(zip(ours, hf)) if a != b]
if len(ours) != len(hf) or bad: print(f"documents differ: {bad[:5]}", file=sys.stderr); sys.exit(1)
PY
  then pass ids_equal_hf_tokenizers; else fail ids_equal_hf "$(tail -3 "$tmp/err")"; fi
else
  skip ids_equal_hf "node or the tokenizers npm package ($NPM_DIR) is not there (tests/tokenizer_hf.test.sh installs it)"
fi

# deterministic: processes 2 twice give the same bytes; mpirun -np 2 gives the one-process files
mkdir -p "$tmp/in3/documents"
for i in 0 1 2; do zcat "$tmp/in/documents/a.json.gz" | sed -n "$((i * 3 + 1)),$((i * 3 + 3))p" > "$tmp/in3/documents/$i.jsonl"; done
for r in p1 p2; do
  "$OLMO" data tokens --documents "$tmp/in3/documents/*.jsonl" --destination "$tmp/$r" --processes 2 "${args[@]}" 2>"$tmp/err" ||
    fail deterministic "$(tail -2 "$tmp/err")"
done
if [ "$(ls "$tmp/p1" | grep -c npy)" -ge 2 ] && diff -r <(cd "$tmp/p1" && for f in *; do echo "$f"; zcat -f "$f" | md5sum; done) \
                                                <(cd "$tmp/p2" && for f in *; do echo "$f"; zcat -f "$f" | md5sum; done) >/dev/null; then
  pass deterministic_with_threads
else fail deterministic "$(ls "$tmp/p1")"; fi
if ! command -v mpirun >/dev/null; then skip mpi_two_ranks "mpirun not installed"
elif ASAN_OPTIONS=detect_leaks=0 mpirun --allow-run-as-root --oversubscribe -np 2 "$OLMO" data tokens --documents "$tmp/in3/documents/*.jsonl" \
       --destination "$tmp/mp" --processes 2 "${args[@]}" >"$tmp/err" 2>&1 &&
     diff <(cd "$tmp/p1" && for f in *; do echo "$f"; zcat -f "$f" | md5sum; done) \
          <(cd "$tmp/mp" && for f in *; do echo "$f"; zcat -f "$f" | md5sum; done) >/dev/null; then
  pass mpi_two_ranks_equal_one_process
else fail mpi_two_ranks "$(tail -3 "$tmp/err")"; fi

# olmo train trains on the written files
CFG=$HERE/../configs/olmo2-tiny.yaml
paths=$(ls "$tmp"/out/*.npy | tr '\n' ',' | sed 's/,$//')
if "$OLMO" train "$CFG" "--data.paths=[$paths]" --max_duration=2 --global_train_batch_size=4 \
     --device_train_microbatch_size=4 --model.max_sequence_length=64 --save_folder="$tmp/run" --save_interval=100 \
     --eval_interval=100 >"$tmp/train.log" 2>&1 && grep -q "done: step 2" "$tmp/train.log"; then
  pass olmo_train_reads_them
else fail olmo_train "$(tail -3 "$tmp/train.log")"; fi

# bad input: a malformed line fails with file:line (nothing left under final names); skip_bad_lines counts it;
# a wrong dtype for the vocabulary is refused as Dolma does; a document longer than max_size is an error
printf '{"id":"1","text":"fine"}\n{"id":2,"text":"int id"}\n{"id":"3","text":"fine too"}\n' > "$tmp/bad.jsonl"
if "$OLMO" data tokens --documents "$tmp/bad.jsonl" --destination "$tmp/bo" "${args[@]}" 2>"$tmp/err"; then fail bad_line accepted
elif grep -q "bad.jsonl:2" "$tmp/err" && [ -z "$(ls "$tmp/bo" 2>/dev/null)" ]; then pass bad_line_names_file_and_line
else fail bad_line "$(cat "$tmp/err")"; fi
"$OLMO" data tokens --documents "$tmp/bad.jsonl" --destination "$tmp/bo" --skip_bad_lines true "${args[@]}" 2>"$tmp/err" &&
  grep -q "1 bad lines skipped" "$tmp/err" && pass skip_bad_lines_counts || fail skip_bad_lines "$(cat "$tmp/err")"
"$OLMO" data tokens --documents "$tmp/bad.jsonl" --destination "$tmp/bd" --dtype uint32 --skip_bad_lines true "${args[@]}" 2>"$tmp/err" &&
  fail dtype "uint32 accepted for a 50280-id vocabulary" || { grep -q "expected uint16" "$tmp/err" && pass dtype_checked_as_dolma || fail dtype "$(cat "$tmp/err")"; }
"$OLMO" data tokens --documents "$tmp/in/documents/a.json.gz" --destination "$tmp/bm" --tokenizer.name_or_path "$TOK" --max_size 100 2>"$tmp/err" &&
  fail max_size "accepted a document longer than max_size" || { grep -q "max_size" "$tmp/err" && pass long_document_is_an_error || fail max_size "$(cat "$tmp/err")"; }
