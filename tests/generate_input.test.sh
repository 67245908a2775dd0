#!/usr/bin/env bash
# generate_input.test.sh — `olmo generate` prompt sources and --json (issue 8):
#  1. -f FILE and -p - (stdin) give the same continuation as -p TEXT, byte for byte (the PyTorch golden one);
#  2. --json is one valid JSON object whose text equals the streamed text, with one id and one log-probability
#     (finite, <= 0) per generated token, the prompt's token count, the stop reason and the timings;
#     at temperature 0 the token is the argmax, so its log-probability is >= log(1/vocab);
#  3. bad input: a missing -f file is named in the error; -p and -f together are refused.
set -u
FIX=tests/fixtures/model/olmo2_gen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
tail -n +2 "$FIX/golden.txt" > "$tmp/golden"
prompt=$(head -1 "$FIX/golden.txt" | cut -f1)
printf '%s' "$prompt" > "$tmp/prompt.txt"

if "$OLMO" generate -m "$FIX" -f "$tmp/prompt.txt" -n 12 --temperature 0 > "$tmp/f" 2> "$tmp/err" && cmp -s "$tmp/f" "$tmp/golden"; then
  echo "PASS generate_prompt_from_file"; else echo "FAIL generate_prompt_from_file: $(tail -2 "$tmp/err")"; fi
if "$OLMO" generate -m "$FIX" -p - -n 12 --temperature 0 < "$tmp/prompt.txt" > "$tmp/s" 2> "$tmp/err" && cmp -s "$tmp/s" "$tmp/golden"; then
  echo "PASS generate_prompt_from_stdin"; else echo "FAIL generate_prompt_from_stdin: $(tail -2 "$tmp/err")"; fi

if "$OLMO" generate -m "$FIX" -p "$prompt" -n 12 --temperature 0 --json > "$tmp/j" 2> "$tmp/err"; then
  vocab=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$FIX/config.json")
  if python3 - "$tmp/j" "$tmp/golden" "$vocab" <<'PY'
import json, math, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 1, "one line"
j = json.loads(lines[0])
golden = open(sys.argv[2], "rb").read().decode("utf-8")
assert j["text"] == golden, (j["text"], golden)
assert len(j["tokens"]) == len(j["logprobs"]) == 12, j
assert all(isinstance(t, int) and t >= 0 for t in j["tokens"])
assert all(math.isfinite(l) and -math.log(int(sys.argv[3])) - 1e-6 <= l <= 0 for l in j["logprobs"]), j["logprobs"]
assert j["prompt_tokens"] > 0 and j["stop"] == "length"
t = j["timings"]
assert t["decode_tokens"] == 12 and t["prefill_tokens"] == j["prompt_tokens"] and t["prefill_s"] > 0 and t["decode_s"] > 0
PY
  then echo "PASS generate_json_output"; else echo "FAIL generate_json_output: $(cat "$tmp/j")"; fi
else echo "FAIL generate_json_output: exit status $? $(tail -2 "$tmp/err")"; fi

if "$OLMO" generate -m "$FIX" -f "$tmp/absent.txt" > /dev/null 2> "$tmp/e1"; then echo "FAIL generate_missing_prompt_file: exit 0"
elif grep -q 'absent.txt' "$tmp/e1"; then echo "PASS generate_missing_prompt_file"; else echo "FAIL generate_missing_prompt_file: $(cat "$tmp/e1")"; fi
if "$OLMO" generate -m "$FIX" -p x -f "$tmp/prompt.txt" > /dev/null 2> "$tmp/e2"; then echo "FAIL generate_p_and_f_refused: exit 0"
elif grep -q 'not both' "$tmp/e2"; then echo "PASS generate_p_and_f_refused"; else echo "FAIL generate_p_and_f_refused: $(cat "$tmp/e2")"; fi
