#!/usr/bin/env bash
# eval.test.sh — `olmo eval ppl` and `olmo eval tasks` end to end on the tiny olmo2_gen fixture:
#  1. a user-written multiple-choice file: the score of " cat sat on ... sun." after "the" equals the PyTorch
#     reference's summed log-probability (tests/ref/make_model_fixtures.py wrote ppl_golden.txt: 65 tokens);
#  2. KV-prefix reuse gives the same scores as scoring every choice from scratch (--no-reuse), with fewer positions;
#  3. the JSON shape the README's main job reads (ppl: bits_per_byte per subdomain; tasks: metrics and items);
#  4. bad input: missing field, label out of range, empty choice, continuation longer than the context, a
#     tokenizer that does not fit the model — each a message naming file and item; --skip-bad counts them.
set -u
FIX=tests/fixtures/model/olmo2_gen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# 1. the PyTorch golden through a user task file
printf '%s\n' '{"context": "the", "choices": [" cat sat on the mat. then the other cat sat on the hat, and the dog sat in the sun.", " dog"], "label": 0, "id": "golden"}' \
  '{"context": "the cat", "choices": [" sat", " ran", " dog"], "label": 0}' > "$tmp/mine.jsonl"
read -r want_n want_nll < "$FIX/ppl_golden.txt"
if "$OLMO" eval tasks -m "$FIX" --tasks "$tmp/mine.jsonl" --ctx 128 --json "$tmp/t.json" > "$tmp/t.out" 2> "$tmp/t.err"; then
  got=$(jget "$tmp/t.json" "'%d %.6f' % (d['tasks'][0]['items'][0]['tokens'][0], -d['tasks'][0]['items'][0]['logliks'][0] / d['tasks'][0]['items'][0]['tokens'][0])")
  set -- $got
  # 0.02 nats: the bf16 GEMM rounds activations (as generate.test.sh's perplexity check)
  if [ "$1" = "$want_n" ] && awk -v a="$2" -v b="$want_nll" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.02) }'; then
    pass eval_tasks_score_matches_pytorch
  else fail eval_tasks_score_matches_pytorch "got $got, want $want_n $want_nll"; fi
else fail eval_tasks_score_matches_pytorch "$(cat "$tmp/t.err")"; fi
if grep -q 'acc_raw' "$tmp/t.out" && grep -q 'stderr' "$tmp/t.out" && [ "$(jget "$tmp/t.json" "d['tasks'][0]['items'][0]['doc_id']")" = golden ]; then
  pass eval_tasks_table_and_items
else fail eval_tasks_table_and_items "$(cat "$tmp/t.out")"; fi

# 2. reuse == from scratch, on a 5-shot OLMES file when the shared data is there, else on the user file
SH=${OLMO_SHARED_DATA:-../shared/data}/eval
task="$tmp/mine.jsonl"; [ -d "$SH" ] && task=arc_easy_rc_5shot
"$OLMO" eval tasks -m "$FIX" --data "$SH" --tasks "$task" --limit 6 --ctx 512 --json "$tmp/r1.json" > /dev/null 2> "$tmp/r1.err"
"$OLMO" eval tasks -m "$FIX" --data "$SH" --tasks "$task" --limit 6 --ctx 512 --no-reuse --json "$tmp/r2.json" > /dev/null 2> "$tmp/r2.err"
same=$(python3 - "$tmp/r1.json" "$tmp/r2.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["tasks"][0] for p in sys.argv[1:])
ok = all(abs(x - y) <= 1e-4 * max(1, abs(y)) for ia, ib in zip(a["items"], b["items"]) for x, y in zip(ia["logliks"], ib["logliks"]))
print("yes" if ok and a["positions"] < b["positions"] else "no %s %s" % (a["positions"], b["positions"]))
PY
)
if [ "$same" = yes ]; then pass eval_tasks_prefix_reuse_same_scores_fewer_positions; else fail eval_tasks_prefix_reuse_same_scores_fewer_positions "$same $(tail -2 "$tmp/r1.err")"; fi

# 3. ppl on plain text + JSONL (gz) with per-subdomain bits per byte
printf '%s\n' '{"text": "the cat sat on the mat.", "source": "s1", "subdomain": "a"}' '{"text": "the dog sat in the sun.", "source": "s1", "subdomain": "b"}' | gzip > "$tmp/docs.jsonl.gz"
if "$OLMO" eval ppl -m "$FIX" "$FIX/ppl_text.txt" "$tmp/docs.jsonl.gz" --json "$tmp/p.json" > "$tmp/p.out" 2> "$tmp/p.err"; then
  r=$(jget "$tmp/p.json" "'%d %d %s' % (len(d['subdomains']), len(d['sources']), all(s['bits_per_byte'] > 0 for s in d['subdomains']))")
  # macro over s1's two subdomains = their mean
  m=$(jget "$tmp/p.json" "abs([s for s in d['sources'] if s['source']=='s1'][0]['macro_bits_per_byte'] - sum(s['bits_per_byte'] for s in d['subdomains'] if s['source']=='s1')/2) < 1e-9")
  if [ "$r" = "3 2 True" ] && [ "$m" = True ] && grep -q 'bits/byte' "$tmp/p.out"; then pass eval_ppl_json_and_macro; else fail eval_ppl_json_and_macro "$r $m"; fi
else fail eval_ppl_json_and_macro "$(cat "$tmp/p.err")"; fi

# 4. bad input
bad() {  # name, file content, expected message fragment
  printf '%s\n' "$2" > "$tmp/$1.jsonl"
  if "$OLMO" eval tasks -m "$FIX" --tasks "$tmp/$1.jsonl" > /dev/null 2> "$tmp/$1.err"; then fail "eval_bad_$1" "exit 0"
  elif grep -q "$1.jsonl:1" "$tmp/$1.err" && grep -q "$3" "$tmp/$1.err"; then pass "eval_bad_$1"
  else fail "eval_bad_$1" "$(cat "$tmp/$1.err")"; fi
}
bad missing_field '{"context": "a", "choices": [" b", " c"]}' 'missing field "label"'
bad label_range '{"context": "a", "choices": [" b", " c"], "label": 2}' 'label 2 is out of range'
bad empty_choice '{"context": "a", "choices": [" b", " "], "label": 0}' 'choice 1 is empty'
long=$(python3 -c "print(' the cat' * 80)")
bad too_long "{\"context\": \"a\", \"choices\": [\"$long\", \" b\"], \"label\": 0}" 'does not fit'
printf '%s\n' '{"context": "a", "choices": [" b", " c"], "label": 0}' '{"context": "a", "choices": [" b"]}' '{"context": "a", "choices": [" b", ""], "label": 0}' > "$tmp/mixed.jsonl"
if "$OLMO" eval tasks -m "$FIX" --tasks "$tmp/mixed.jsonl" --skip-bad --json "$tmp/s.json" > "$tmp/s.out" 2> "$tmp/s.err" \
   && [ "$(jget "$tmp/s.json" "(d['tasks'][0]['n'], d['tasks'][0]['skipped'])")" = "(1, 2)" ] && grep -q 'skipped' "$tmp/s.out"; then
  pass eval_skip_bad_counts
else fail eval_skip_bad_counts "$(cat "$tmp/s.err" "$tmp/s.out")"; fi
# a tokenizer with more ids than the model's vocabulary
mkdir "$tmp/mis"; cp "$FIX"/* "$tmp/mis/"
python3 - "$tmp/mis/tokenizer.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["added_tokens"].append(dict(t["added_tokens"][0], id=400, content="<|extra|>"))
json.dump(t, open(sys.argv[1], "w"))
PY
if "$OLMO" eval ppl -m "$tmp/mis" "$FIX/ppl_text.txt" > /dev/null 2> "$tmp/mis.err"; then fail eval_bad_vocab "exit 0"
elif grep -q "the tokenizer has 401 ids but the model's vocabulary is 272" "$tmp/mis.err"; then pass eval_bad_vocab; else fail eval_bad_vocab "$(cat "$tmp/mis.err")"; fi
printf '{"text": ""}\n{"nope": 1}\n' > "$tmp/badppl.jsonl"
if "$OLMO" eval ppl -m "$FIX" "$tmp/badppl.jsonl" > /dev/null 2> "$tmp/bp.err"; then fail eval_ppl_bad_line "exit 0"
elif grep -q 'badppl.jsonl:1: empty "text"' "$tmp/bp.err"; then pass eval_ppl_bad_line; else fail eval_ppl_bad_line "$(cat "$tmp/bp.err")"; fi
if "$OLMO" eval tasks -m "$FIX" --tasks no_such_task > /dev/null 2> "$tmp/u.err"; then fail eval_unknown_task "exit 0"
elif grep -q "unknown task 'no_such_task'" "$tmp/u.err"; then pass eval_unknown_task; else fail eval_unknown_task "$(cat "$tmp/u.err")"; fi
