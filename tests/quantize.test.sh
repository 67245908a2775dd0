#!/usr/bin/env bash
# quantize.test.sh — `olmo quantize` end to end on the tiny olmo2_gen fixture.
#  1. for q8 and q4: the quantized directory generates (greedy) exactly what `--quant` at load generates, and
#     its perplexity line is identical (same weights, same kernels: the file changes nothing but load time);
#  2. the output directory carries the tokenizer and config (generate needs them) and no source weights;
#  3. bad input: an unknown format, a missing -o, -o equal to -m, a q8 directory re-quantized as q4.
set -u
FIX=tests/fixtures/model/olmo2_gen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
prompt=$(head -1 "$FIX/golden.txt" | cut -f1)

for q in q8 q4; do
  if "$OLMO" quantize -m "$FIX" -o "$tmp/$q" --quant $q 2> "$tmp/qerr"; then
    "$OLMO" generate -m "$FIX" --quant $q -p "$prompt" -n 12 --temperature 0 > "$tmp/a" 2>/dev/null
    "$OLMO" generate -m "$tmp/$q" -p "$prompt" -n 12 --temperature 0 > "$tmp/b" 2>/dev/null
    pa=$("$OLMO" perplexity -m "$FIX" --quant $q -f "$FIX/ppl_text.txt" --ctx 128 2>/dev/null)
    pb=$("$OLMO" perplexity -m "$tmp/$q" -f "$FIX/ppl_text.txt" --ctx 128 2>/dev/null)
    if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" && [ -n "$pa" ] && [ "$pa" = "$pb" ]; then
      echo "PASS quantize_${q}_file_equals_load_time_quantization"
    else
      echo "FAIL quantize_${q}_file_equals_load_time_quantization: '$(cat "$tmp/a")' vs '$(cat "$tmp/b")'; '$pa' vs '$pb'"
    fi
  else
    echo "FAIL quantize_${q}_file_equals_load_time_quantization: $(cat "$tmp/qerr")"
  fi
done
if [ -f "$tmp/q4/tokenizer.json" ] && [ -f "$tmp/q4/config.json" ] && [ "$(ls "$tmp/q4" | grep -c safetensors)" = 1 ]; then
  echo "PASS quantize_copies_side_files"
else
  echo "FAIL quantize_copies_side_files: $(ls "$tmp/q4")"
fi

bad() {   # name, expected text in stderr, args...
  local name=$1 want=$2; shift 2
  if "$OLMO" quantize "$@" > /dev/null 2> "$tmp/e"; then echo "FAIL $name: exit 0"
  elif grep -q -- "$want" "$tmp/e"; then echo "PASS $name"; else echo "FAIL $name: $(cat "$tmp/e")"; fi
}
bad quantize_unknown_format "expected q8, q4" -m "$FIX" -o "$tmp/x" --quant q3
bad quantize_missing_output "required" -m "$FIX" --quant q4
bad quantize_output_is_source "source directory" -m "$FIX" -o "$FIX" --quant q4
bad quantize_requantize_other_format "unquantized checkpoint" -m "$tmp/q8" -o "$tmp/y" --quant q4
