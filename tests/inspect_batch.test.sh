#!/usr/bin/env bash
# inspect_batch.test.sh — `olmo inspect batch` on small token files this test makes: every step's instances point
# at the right file and offset and carry that file's tokens, one epoch covers every instance exactly once, the
# global batch is the same for any --world-size, the order equals NumPy's PCG64 shuffle when NumPy is there, the
# decoded text is the text that was tokenized (when the shared tokenizer is there), and errors are clear.
# Protocol: PASS/FAIL/SKIP lines (tests/run.sh); $OLMO is the binary.
set -u
OLMO=${OLMO:-build/olmo}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS inspect_$1"; }
fail() { echo "FAIL inspect_$1: $2"; }
PY=python3

# a.npy: 10 instances of 8 tokens (id 1000 + position); b.npy: 6 instances + 3 spare tokens (id 5000 + position)
$PY - "$tmp" <<'EOF'
import struct, sys
d = sys.argv[1]
open(d + "/a.npy", "wb").write(struct.pack("<80H", *[1000 + i for i in range(80)]))
open(d + "/b.npy", "wb").write(struct.pack("<51H", *[5000 + i for i in range(51)]))
EOF
CFG=configs/olmo2-tiny.yaml
OV=(--model.max_sequence_length=8 --global_train_batch_size=4 "--data.paths=[$tmp/a.npy, $tmp/b.npy]")

for s in 1 2 3 4 5 6 7 8; do
  "$OLMO" inspect batch "$CFG" --step $s --json --no-text --tokens "${OV[@]}" > "$tmp/step$s.json" 2> "$tmp/err" ||
    { fail json_runs "step $s: $(cat "$tmp/err")"; exit 0; }
done
pass json_runs

check=$($PY - "$tmp" <<'EOF'
import json, struct, sys
d = sys.argv[1]
files = {d + "/a.npy": open(d + "/a.npy", "rb").read(), d + "/b.npy": open(d + "/b.npy", "rb").read()}
problems = []
epochs = {0: [], 1: []}
for s in range(1, 9):
    o = json.load(open(f"{d}/step{s}.json"))
    if o["step"] != s or o["epoch"] != (s - 1) // 4 or len(o["instances"]) != 4:
        problems.append(f"step {s}: header {o['step']} {o['epoch']} {len(o['instances'])}")
    for inst in o["instances"]:
        i = inst["index"]
        want_file, want_start = (d + "/a.npy", i * 8) if i < 10 else (d + "/b.npy", (i - 10) * 8)
        if inst["file"] != want_file or inst["start"] != want_start:
            problems.append(f"step {s}: index {i} at {inst['file']}:{inst['start']}")
        raw = files[inst["file"]][2 * inst["start"]: 2 * inst["start"] + 16]
        if list(struct.unpack("<8H", raw)) != inst["tokens"]:
            problems.append(f"step {s}: index {i} tokens differ from the file")
        epochs[o["epoch"]].append(i)
for e, idx in epochs.items():
    if sorted(idx) != list(range(16)):
        problems.append(f"epoch {e} does not cover each instance once: {idx}")
if epochs[0] == epochs[1]:
    problems.append("epoch 1 repeats epoch 0's order (seed + epoch not applied)")
print("; ".join(problems) if problems else "ok")
EOF
)
[ "$check" = ok ] && pass files_offsets_tokens_epochs || fail files_offsets_tokens_epochs "$check"

# the same global batch for 2 and 4 processes; rank = position modulo the world size
ok=1
for w in 2 4; do
  "$OLMO" inspect batch "$CFG" --step 3 --json --no-text --world-size $w "${OV[@]}" > "$tmp/w$w.json" 2>&1 || ok=0
  r=$($PY -c "
import json,sys
a=json.load(open('$tmp/step3.json'));b=json.load(open('$tmp/w$w.json'))
print('ok' if [i['index'] for i in a['instances']]==[i['index'] for i in b['instances']] and
      [i['rank'] for i in b['instances']]==[k % $w for k in range(4)] else 'differ')" 2>&1)
  [ "$r" = ok ] || ok=0
done
[ $ok = 1 ] && pass world_size_independent || fail world_size_independent "batch differs with --world-size"

# NumPy's own shuffle, when NumPy is installed (Debian python3-numpy)
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  r=$(/usr/bin/python3 - "$tmp" <<'EOF'
import json, sys
import numpy as np
d = sys.argv[1]
bad = []
for e in (0, 1):
    idx = np.arange(16, dtype=np.uint32)
    np.random.Generator(np.random.PCG64(6198 + e)).shuffle(idx)
    for j in range(4):
        s = 4 * e + j + 1
        got = [i["index"] for i in json.load(open(f"{d}/step{s}.json"))["instances"]]
        if got != idx[4 * j: 4 * j + 4].tolist():
            bad.append(f"step {s}: {got} vs {idx[4*j:4*j+4].tolist()}")
print("; ".join(bad) if bad else "ok")
EOF
)
  [ "$r" = ok ] && pass order_is_numpy_pcg64 || fail order_is_numpy_pcg64 "$r"
else
  echo "SKIP inspect_order_is_numpy_pcg64: NumPy not installed (bash scripts/install-deps.sh --ref)"
fi

# a real NumPy .npy (np.save, with its header) reads as the same tokens as a headerless file
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  /usr/bin/python3 -c "import numpy as np; np.save('$tmp/real.npy', (np.arange(80) + 1000).astype(np.uint16))"
  "$OLMO" inspect batch "$CFG" --step 1 --json --no-text --tokens --model.max_sequence_length=8 \
    --global_train_batch_size=4 "--data.paths=[$tmp/real.npy]" > "$tmp/real.json" 2> "$tmp/err"
  r=$($PY -c "
import json
o=json.load(open('$tmp/real.json'))
print('ok' if all(i['tokens']==list(range(1000+i['start'],1008+i['start'])) for i in o['instances']) and len(o['instances'])==4 else 'differ')" 2>&1)
  [ "$r" = ok ] && pass numpy_npy_header || fail numpy_npy_header "$r $(cat "$tmp/err")"
else
  echo "SKIP inspect_numpy_npy_header: NumPy not installed"
fi

# decoded text: tokenize three documents with the shared NeoX tokenizer, EOS after each, and read them back
TOK=${OLMO_SHARED_DATA:-../shared/data}/tokenizers/allenai_gpt-neox-olmo-dolma-v1_5.json
if [ -f "$TOK" ]; then
  printf '%s\n' "The quick brown fox jumps over the lazy dog near the quiet river bank." \
    "Open language models let researchers see every step of training, from data to weights." \
    "A second look at the same batch should always give the same text, whatever the machine." > "$tmp/docs.txt"
  "$OLMO" tokenizer encode -t "$TOK" "$tmp/docs.txt" > "$tmp/ids.jsonl" 2> "$tmp/err" || { fail text "encode: $(cat "$tmp/err")"; exit 0; }
  $PY - "$tmp" <<'EOF'
import json, struct, sys
d = sys.argv[1]
ids = []
for line in open(d + "/ids.jsonl"):
    ids += json.loads(line) + [50279]
open(d + "/docs.npy", "wb").write(struct.pack(f"<{len(ids)}H", *ids))
EOF
  TOV=(--model.max_sequence_length=8 --global_train_batch_size=2 "--data.paths=[$tmp/docs.npy]" "--tokenizer" "$TOK")
  "$OLMO" inspect batch "$CFG" --step 2 --json "${TOV[@]}" > "$tmp/text.json" 2> "$tmp/err" || { fail text "$(cat "$tmp/err")"; exit 0; }
  r=$($PY - "$tmp" <<'EOF'
import json, sys
d = sys.argv[1]
full = "<|endoftext|>".join(open(d + "/docs.txt").read().splitlines()) + "<|endoftext|>"
o = json.load(open(d + "/text.json"))
bad = [i["text"] for i in o["instances"] if not i.get("text") or i["text"] not in full]
print("ok" if len(o["instances"]) == 2 and not bad else f"not in the documents: {bad}")
EOF
)
  [ "$r" = ok ] && pass decoded_text_json || fail decoded_text_json "$r"
  out=$("$OLMO" inspect batch "$CFG" --step 2 "${TOV[@]}" 2>&1)
  first=$($PY -c "import json;print(json.load(open('$tmp/text.json'))['instances'][0]['text'][:20])")
  if echo "$out" | grep -q "^step 2: epoch 0" && echo "$out" | grep -qF "$first" && echo "$out" | grep -q "docs.npy  tokens"; then
    pass decoded_text_plain
  else
    fail decoded_text_plain "$out"
  fi
else
  echo "SKIP inspect_decoded_text_json: $TOK not found"
  echo "SKIP inspect_decoded_text_plain: $TOK not found"
fi

# errors: clear messages, exit status 1
msg=$("$OLMO" inspect batch "$CFG" "${OV[@]}" 2>&1); rc=$?
[ $rc = 1 ] && echo "$msg" | grep -q -- "--step N is required" && pass error_no_step || fail error_no_step "rc $rc: $msg"
msg=$("$OLMO" inspect batch "$CFG" --step 1 --model.d_model=abc "${OV[@]}" 2>&1); rc=$?
[ $rc = 1 ] && echo "$msg" | grep -q "command line (--model.d_model=abc): model.d_model: expected an integer" &&
  pass error_bad_override || fail error_bad_override "rc $rc: $msg"
msg=$("$OLMO" inspect batch "$CFG" --step 1 "--data.paths=[$tmp/nope.npy]" 2>&1); rc=$?
[ $rc = 1 ] && echo "$msg" | grep -q "nope.npy" && pass error_missing_file || fail error_missing_file "rc $rc: $msg"
exit 0
