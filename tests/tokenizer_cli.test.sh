#!/usr/bin/env bash
# tokenizer_cli.test.sh — `olmo tokenizer` end to end: help, encode/decode round trips on shared corpora,
# tok_ref.js output format, errors. Protocol: PASS/FAIL/SKIP lines; the binary is $OLMO.
set -u
OLMO=${OLMO:-build/olmo}
SHARED=${OLMO_SHARED_DATA:-../shared/data}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

if "$OLMO" tokenizer --help | grep -q "olmo tokenizer encode"; then pass tokcli_help; else fail tokcli_help "no usage text"; fi

if "$OLMO" tokenizer encode -t /nonexistent.json /dev/null 2>"$TMP/err"; then fail tokcli_missing_tokenizer "exit status 0"
elif grep -q "nonexistent.json" "$TMP/err"; then pass tokcli_missing_tokenizer
else fail tokcli_missing_tokenizer "message does not name the file: $(cat "$TMP/err")"; fi

D2=$SHARED/tokenizers/allenai_dolma2.json
NX=$SHARED/tokenizers/allenai_gpt-neox-olmo-dolma-v1_5.json
if [ ! -f "$D2" ]; then
  echo "SKIP tokcli_formats: $SHARED/tokenizers not found (set OLMO_SHARED_DATA)"
  echo "SKIP tokcli_round_trip: $SHARED/tokenizers not found"
  exit 0
fi

# the exact tok_ref.js format: one array per line, no spaces, \r stripped, final empty line dropped
printf 'a   b\r\n\nhello world\n<|endoftext|>x\n' > "$TMP/in.txt"
"$OLMO" tokenizer encode -t "$D2" "$TMP/in.txt" > "$TMP/out.txt"
printf '[64,256,293]\n[]\n[15339,1917]\n[100257,87]\n' > "$TMP/want.txt"
if cmp -s "$TMP/out.txt" "$TMP/want.txt"; then pass tokcli_formats; else fail tokcli_formats "got $(tr '\n' ' ' < "$TMP/out.txt")"; fi

"$OLMO" tokenizer decode -t "$D2" --json "$TMP/out.txt" > "$TMP/dec.txt"
printf '"a   b"\n""\n"hello world"\n"<|endoftext|>x"\n' > "$TMP/want.txt"
if cmp -s "$TMP/dec.txt" "$TMP/want.txt"; then pass tokcli_decode_json; else fail tokcli_decode_json "got $(tr '\n' ' ' < "$TMP/dec.txt")"; fi
"$OLMO" tokenizer decode -t "$D2" --skip-special "$TMP/out.txt" > "$TMP/dec.txt"
if [ "$(sed -n 4p "$TMP/dec.txt")" = "x" ]; then pass tokcli_decode_skip_special; else fail tokcli_decode_skip_special "got $(sed -n 4p "$TMP/dec.txt")"; fi

# round trip: dolma2 has no normalizer, so decode(encode(line)) == line for every line of a corpus
ok=1
for f in "$SHARED/corpora/tinyshakespeare.txt" "$SHARED/tokenizer-vectors/udhr/hin.txt" "$SHARED/tokenizer-vectors/udhr/cmn_hans.txt"; do
  [ -f "$f" ] || continue
  head -n 3000 "$f" | tr -d '\r' | sed -e '$a\' > "$TMP/c.txt"
  "$OLMO" tokenizer encode -t "$D2" "$TMP/c.txt" | "$OLMO" tokenizer decode -t "$D2" > "$TMP/back.txt"
  cmp -s "$TMP/c.txt" "$TMP/back.txt" || { ok=0; fail tokcli_round_trip "$(basename "$f") differs after decode(encode())"; }
done
[ $ok = 1 ] && pass tokcli_round_trip

# invalid UTF-8 bytes are encoded as their byte tokens (0xFF is 'ÿ' = 187 in dolma2; the NeoX vocabulary has
# no token for the 13 bytes that never occur in UTF-8, C0 C1 F5..FF, and drops them as HF does)
printf 'a\xffb\n' > "$TMP/bad.txt"
if "$OLMO" tokenizer encode -t "$D2" "$TMP/bad.txt" > "$TMP/o.txt" && [ "$(cat "$TMP/o.txt")" = "[64,187,65]" ] ; then pass tokcli_invalid_utf8
else fail tokcli_invalid_utf8 "got $(cat "$TMP/o.txt")"; fi

# --whole and --special, and a decode error names the line
printf 'x\ny' | "$OLMO" tokenizer encode -t "$D2" --whole > "$TMP/o.txt"
if [ "$(cat "$TMP/o.txt")" = "[87,198,88]" ]; then pass tokcli_whole; else fail tokcli_whole "got $(cat "$TMP/o.txt")"; fi
printf '[1,2]\nnot json\n' > "$TMP/bad_ids.txt"
if "$OLMO" tokenizer decode -t "$D2" "$TMP/bad_ids.txt" >/dev/null 2>"$TMP/err"; then fail tokcli_decode_error "exit 0"
elif grep -q "line 2" "$TMP/err"; then pass tokcli_decode_error; else fail tokcli_decode_error "$(cat "$TMP/err")"; fi
