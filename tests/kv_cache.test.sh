#!/usr/bin/env bash
# kv_cache.test.sh — `--kv-cache f32|bf16` end to end on the tiny olmo2_gen fixture:
#  1. generate with a bf16 cache reports it on stderr with half the bytes of the fp32 cache for the same --ctx;
#  2. perplexity with a bf16 cache stays within 0.02 nats of the PyTorch reference's mean NLL (as the fp32 cache
#     must; the bf16 GEMM rounding dominates, test_model.c) and says which cache it used;
#  3. a bad value exits non-zero naming the flag and the accepted values.
set -u
FIX=tests/fixtures/model/olmo2_gen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1

"$OLMO" generate -m "$FIX" -p "hello" -n 4 --temperature 0 --ctx 4000 --kv-cache bf16 > /dev/null 2> "$tmp/bf"
"$OLMO" generate -m "$FIX" -p "hello" -n 4 --temperature 0 --ctx 4000 > /dev/null 2> "$tmp/f32"
# olmo2_gen: 2 layers x (K, V) x kv_dim 16 x 4000 positions = 256 000 elements
if grep -q 'KV cache bf16, 4000 positions, 0.5 MB' "$tmp/bf" && grep -q 'KV cache f32, 4000 positions, 1.0 MB' "$tmp/f32"; then
  echo "PASS kv_cache_reported"
else
  echo "FAIL kv_cache_reported: $(tail -1 "$tmp/bf") / $(tail -1 "$tmp/f32")"
fi

read -r want_n want_nll < "$FIX/ppl_golden.txt"
line=$("$OLMO" perplexity -m "$FIX" -f "$FIX/ppl_text.txt" --ctx 128 --kv-cache bf16 2>/dev/null)
got_n=$(echo "$line" | sed -n 's/.*tokens scored: \([0-9]*\).*/\1/p'); got_nll=$(echo "$line" | sed -n 's/.*mean NLL: \([0-9.]*\).*/\1/p')
if [ "$got_n" = "$want_n" ] && echo "$line" | grep -q 'bf16 KV cache' &&
   awk -v a="$got_nll" -v b="$want_nll" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.02) }'; then
  echo "PASS kv_cache_bf16_perplexity_matches_pytorch"
else
  echo "FAIL kv_cache_bf16_perplexity_matches_pytorch: got '$line', want $want_n tokens NLL $want_nll"
fi

if "$OLMO" perplexity -m "$FIX" -f "$FIX/ppl_text.txt" --kv-cache f16 > /dev/null 2> "$tmp/e1"; then echo "FAIL kv_cache_bad_value: exit 0";
elif grep -q -- "--kv-cache" "$tmp/e1" && grep -q "'f16'" "$tmp/e1" && grep -q "bf16" "$tmp/e1"; then echo "PASS kv_cache_bad_value";
else echo "FAIL kv_cache_bad_value: $(cat "$tmp/e1")"; fi
