#!/usr/bin/env bash
# demo.test.sh — `olmo demo --quick`: the whole pipeline (corpus, BPE tokenizer, token file, training, checkpoint,
# samples) runs in seconds without ../shared data and leaves every promised file behind.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$OLMO" demo --quick --out "$tmp/out" >"$tmp/stdout" 2>"$tmp/stderr"; then
  echo "FAIL demo_quick_runs: exit status $?"; tail -5 "$tmp/stderr"; exit 0
fi
echo "PASS demo_quick_runs"
ok=1
for f in tokenizer.json data/train.npy demo.yaml run/step-12/config.json run/step-12/model.safetensors \
         run/step-12/tokenizer.json run/step-12/trainer_state.json run/metrics.jsonl run/latest; do
  [ -s "$tmp/out/$f" ] || { echo "FAIL demo_outputs: $f missing or empty"; ok=0; break; }
done
[ $ok = 1 ] && echo "PASS demo_outputs"
n=$(grep -c '^  > ' "$tmp/stdout")
if [ "$n" = 3 ]; then echo "PASS demo_samples_printed"; else echo "FAIL demo_samples_printed: $n samples"; fi
# the written config trains again as it is (resume finds step 12 = the end: nothing left to do)
if "$OLMO" train "$tmp/out/demo.yaml" --resume -q 2>"$tmp/resume.err"; then echo "PASS demo_config_reusable"
else echo "FAIL demo_config_reusable: $(tail -1 "$tmp/resume.err")"; fi
# the checkpoint (with its tokenizer.json) runs as it is in `olmo generate`
out=$("$OLMO" generate -m "$tmp/out/run/step-12" -p "Permission is" -n 5 -t 1 2>"$tmp/gen.err")
if [ $? = 0 ] && [ -n "$out" ]; then echo "PASS demo_checkpoint_generates"
else echo "FAIL demo_checkpoint_generates: $(tail -1 "$tmp/gen.err")"; fi
