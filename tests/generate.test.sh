#!/usr/bin/env bash
# generate.test.sh — `olmo generate` and `olmo chat` end to end on the tiny olmo2_gen fixture.
#  1. greedy generation equals the golden continuation computed by tests/ref/make_model_fixtures.py (an
#     independent PyTorch forward pass + Python's lossy UTF-8 decode), byte for byte;
#  2. a scripted two-turn chat: each reply equals `olmo generate` on the Tulu-rendered conversation so far
#     (checks the template rendering, the KV-cache prefix reuse across turns, and the stop at EOS);
#  3. bad input: a missing directory and a bad flag exit non-zero with a message.
set -u
FIX=tests/fixtures/model/olmo2_gen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1

tail -n +2 "$FIX/golden.txt" > "$tmp/golden"
prompt=$(head -1 "$FIX/golden.txt" | cut -f1)
if "$OLMO" generate -m "$FIX" -p "$prompt" -n 12 --temperature 0 > "$tmp/out" 2> "$tmp/err" && cmp -s "$tmp/out" "$tmp/golden"; then
  echo "PASS generate_greedy_matches_pytorch_golden"
else
  echo "FAIL generate_greedy_matches_pytorch_golden: $(xxd "$tmp/out" | head -3) vs $(xxd "$tmp/golden" | head -3) $(tail -2 "$tmp/err")"
fi
if grep -q 'decode: 12 tokens' "$tmp/err" && grep -q 'tok/s' "$tmp/err"; then echo "PASS generate_reports_speed"; else echo "FAIL generate_reports_speed: $(cat "$tmp/err")"; fi

# sampling: same seed same text, different seed (very likely) different text
"$OLMO" generate -m "$FIX" -p "$prompt" -n 20 --temperature 1 --top-k 50 --top-p 0.95 -s 7 > "$tmp/s1" 2>/dev/null
"$OLMO" generate -m "$FIX" -p "$prompt" -n 20 --temperature 1 --top-k 50 --top-p 0.95 -s 7 > "$tmp/s2" 2>/dev/null
"$OLMO" generate -m "$FIX" -p "$prompt" -n 20 --temperature 1 --top-k 50 --top-p 0.95 -s 8 > "$tmp/s3" 2>/dev/null
if cmp -s "$tmp/s1" "$tmp/s2" && ! cmp -s "$tmp/s1" "$tmp/s3"; then echo "PASS generate_seeded_sampling"; else echo "FAIL generate_seeded_sampling"; fi

# chat, two turns from stdin
printf 'hello\nmore\n' | "$OLMO" chat -m "$FIX" -n 6 --temperature 0 --ctx 256 > "$tmp/chat" 2> "$tmp/chat.err"
rc=$?
EOT=$'<|endoftext|>'
"$OLMO" generate -m "$FIX" -p "${EOT}<|user|>"$'\n'"hello"$'\n'"<|assistant|>"$'\n' -n 6 --temperature 0 --ctx 256 > "$tmp/r1" 2>/dev/null
r1=$(cat "$tmp/r1"; printf x); r1=${r1%x}
"$OLMO" generate -m "$FIX" -p "${EOT}<|user|>"$'\n'"hello"$'\n'"<|assistant|>"$'\n'"${r1}${EOT}"$'\n'"<|user|>"$'\n'"more"$'\n'"<|assistant|>"$'\n' -n 6 --temperature 0 --ctx 256 > "$tmp/r2" 2>/dev/null
{ cat "$tmp/r1"; echo; cat "$tmp/r2"; echo; } > "$tmp/chat.want"
if [ $rc -eq 0 ] && cmp -s "$tmp/chat" "$tmp/chat.want"; then
  echo "PASS chat_two_turns_match_generate_on_rendered_template"
else
  echo "FAIL chat_two_turns_match_generate_on_rendered_template: rc=$rc $(xxd "$tmp/chat" | head -2) want $(xxd "$tmp/chat.want" | head -2) $(tail -2 "$tmp/chat.err")"
fi

if "$OLMO" generate -m "$tmp/nothing" -p x > /dev/null 2> "$tmp/e1"; then echo "FAIL generate_missing_dir: exit 0";
elif grep -q 'config.json' "$tmp/e1"; then echo "PASS generate_missing_dir"; else echo "FAIL generate_missing_dir: $(cat "$tmp/e1")"; fi
if "$OLMO" generate -m "$FIX" -p x --top-p 7 > /dev/null 2> "$tmp/e2"; then echo "FAIL generate_bad_flag: exit 0";
elif grep -q 'top-p' "$tmp/e2"; then echo "PASS generate_bad_flag"; else echo "FAIL generate_bad_flag: $(cat "$tmp/e2")"; fi
# a checkpoint without a chat template: chat refuses with a clear message
mkdir -p "$tmp/nochat"; cp "$FIX"/config.json "$FIX"/model.safetensors "$FIX"/tokenizer.json "$tmp/nochat/"
if echo hi | "$OLMO" chat -m "$tmp/nochat" > /dev/null 2> "$tmp/e3"; then echo "FAIL chat_without_template: exit 0";
elif grep -q 'chat template' "$tmp/e3"; then echo "PASS chat_without_template"; else echo "FAIL chat_without_template: $(cat "$tmp/e3")"; fi

# perplexity of a short text equals the PyTorch reference's mean NLL (tests/ref/make_model_fixtures.py).
# Tolerance 0.02 nats: the prompt goes through the bf16 GEMM, which rounds activations to bf16 (test_model.c).
read -r want_n want_nll < "$FIX/ppl_golden.txt"
line=$("$OLMO" perplexity -m "$FIX" -f "$FIX/ppl_text.txt" --ctx 128 2>/dev/null)
got_n=$(echo "$line" | sed -n 's/.*tokens scored: \([0-9]*\).*/\1/p'); got_nll=$(echo "$line" | sed -n 's/.*mean NLL: \([0-9.]*\).*/\1/p')
if [ "$got_n" = "$want_n" ] && awk -v a="$got_nll" -v b="$want_nll" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.02) }'; then
  echo "PASS perplexity_matches_pytorch"
else
  echo "FAIL perplexity_matches_pytorch: got '$line', want $want_n tokens NLL $want_nll"
fi
