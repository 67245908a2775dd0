#!/usr/bin/env bash
# eval_train.test.sh — evaluation during `olmo train` (OLMo's `evaluators` + eval_interval):
#  1. metrics.jsonl gets one eval line at every eval_interval step and at the end, with the perplexity of a token
#     file (OLMo's in-loop CE), the bits per byte of a text file and a downstream task's accuracies;
#  2. the in-loop figures equal `olmo eval ppl` / `olmo eval tasks` run afterwards on the same checkpoint;
#  3. the loss plot is drawn (with the eval curve) when gnuplot is there;
#  4. a bad evaluator (unknown type) is refused before training, naming the line.
set -u
FIX=tests/fixtures/model/olmo2_gen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
lines = ["The quick brown fox jumps over the lazy dog. ", "OLMo is a fully open language model. ",
         "Training a transformer means predicting the next token. "]
data = "".join(lines[(i * 7 + i // 3) % 3] for i in range(200)).encode()
open(d + "/data.bin", "wb").write(data)               # uint8 token ids (< 256 < vocab 272)
open(d + "/held.bin", "wb").write(data[:32 * 6])
open(d + "/held.txt", "w").write("the cat sat on the mat. the dog sat in the sun.")
open(d + "/mc.jsonl", "w").write('{"context": "the cat sat on the", "choices": [" mat", " sun"], "label": 0}\n'
                                 '{"context": "the dog sat in the", "choices": [" mat", " sun"], "label": 1}\n')
PY
cat > "$tmp/cfg.yaml" <<EOF2
run_name: eval-in-loop
seed: 6198
model:
  d_model: 32
  n_heads: 4
  n_layers: 2
  mlp_hidden_size: 128
  max_sequence_length: 32
  vocab_size: 272
  embedding_size: 272
  layer_norm_type: rms
  layer_norm_with_affine: true
  layer_norm_eps: 1.0e-6
  attention_layer_norm: true
  norm_after: true
  rope: true
  rope_theta: 500000
  weight_tying: false
  include_bias: false
  activation_type: swiglu
  attention_dropout: 0.0
  residual_dropout: 0.0
  embedding_dropout: 0.0
  init_fn: normal
  init_std: 0.02
  eos_token_id: 264
  pad_token_id: 1
optimizer:
  name: adamw
  learning_rate: 1.0e-2
scheduler:
  name: constant_with_warmup
  t_warmup: 2
max_duration: 6
global_train_batch_size: 4
device_train_microbatch_size: 4
precision: fp32
data:
  paths: [$tmp/data.bin]
  memmap_dtype: uint8
tokenizer:
  identifier: $PWD/$FIX/tokenizer.json
save_folder: $tmp/run
save_interval: null
eval_interval: 3
evaluators:
  - label: held-tokens
    type: lm
    data:
      paths: [$tmp/held.bin]
  - label: held-text
    type: lm
    data:
      paths: [$tmp/held.txt]
  - label: $tmp/mc.jsonl
    type: downstream
EOF2
if "$OLMO" train "$tmp/cfg.yaml" > "$tmp/out" 2> "$tmp/err"; then
  r=$(python3 - "$tmp/run/metrics.jsonl" "$tmp/mc.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if '"eval/' in l]
steps = [e["step"] for e in ev]
keys = ["eval/held-tokens/CrossEntropyLoss", "eval/held-tokens/Perplexity", "eval/held-text/CrossEntropyLoss",
        "eval/held-text/bits_per_byte", "eval/downstream/%s_acc_raw" % sys.argv[2]]
missing = [k for k in keys if any(k not in e for e in ev)]
print("ok" if steps == [3, 6] and not missing else "steps %s missing %s" % (steps, missing))
PY
)
  if [ "$r" = ok ]; then pass eval_train_lines_in_metrics; else fail eval_train_lines_in_metrics "$r"; fi
else
  fail eval_train_lines_in_metrics "$(tail -5 "$tmp/err")"
fi
# 2. the same figures from the standalone commands on the step-6 checkpoint
ck="$tmp/run/step-6"
"$OLMO" eval ppl -m "$ck" "$tmp/held.txt" --ctx 32 --json "$tmp/p.json" > /dev/null 2> "$tmp/p.err"
"$OLMO" eval tasks -m "$ck" --tasks "$tmp/mc.jsonl" --ctx 32 --json "$tmp/t.json" > /dev/null 2> "$tmp/t.err"
r=$(python3 - "$tmp/run/metrics.jsonl" "$tmp/p.json" "$tmp/t.json" "$tmp/mc.jsonl" <<'PY'
import json, sys
e = [json.loads(l) for l in open(sys.argv[1]) if '"eval/' in l][-1]
p = json.load(open(sys.argv[2])); t = json.load(open(sys.argv[3]))
a = e["eval/held-text/bits_per_byte"]; b = p["bits_per_byte"]
c = e["eval/downstream/%s_acc_raw" % sys.argv[4]]; d = t["tasks"][0]["metrics"]["acc_raw"]
print("ok" if abs(a - b) <= 1e-6 * b and c == d else "bpb %r vs %r, acc %r vs %r" % (a, b, c, d))
PY
)
if [ "$r" = ok ]; then pass eval_train_equals_standalone_eval; else fail eval_train_equals_standalone_eval "$r $(cat "$tmp/p.err" "$tmp/t.err" | tail -3)"; fi
# 3. the plot
if command -v gnuplot > /dev/null; then
  if [ -s "$tmp/run/loss.png" ]; then pass eval_train_loss_plot; else fail eval_train_loss_plot "no loss.png"; fi
else echo "SKIP eval_train_loss_plot: gnuplot not installed"; fi
# 4. a bad evaluator
sed 's/type: downstream/type: generation/' "$tmp/cfg.yaml" > "$tmp/bad.yaml"
if "$OLMO" train "$tmp/bad.yaml" > /dev/null 2> "$tmp/bad.err"; then fail eval_train_bad_evaluator "exit 0"
elif grep -q "bad.yaml:[0-9]*: evaluators.2.type: 'generation' is not lm or downstream" "$tmp/bad.err"; then pass eval_train_bad_evaluator
else fail eval_train_bad_evaluator "$(cat "$tmp/bad.err")"; fi
