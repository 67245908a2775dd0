#!/usr/bin/env bash
# serve.test.sh — `olmo serve` end to end on the tiny olmo2_gen fixture, on free loopback ports, with curl + jq
# (../shared/spec/serving.md §12) and the official `openai` npm client v6 (tests/serve/openai_sdk.mjs, installed on
# first use into build/npm-openai; SKIPs with the reason when npm cannot install it). Greedy unless stated: the
# assertions are structural or determinism-based, never about text quality.
set -u
FIX=tests/fixtures/model/olmo2_gen
tmp=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export OMP_NUM_THREADS=1
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP serve_all: curl and jq are needed"; exit 0; }

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
check() { if eval "$2"; then pass "$1"; else fail "$1" "${3:-$2}"; fi; }

start() {   # server flags...: starts olmo serve on a free port, waits until /health is ok; sets PID URL
  rm -f "$tmp/port"
  "$OLMO" serve -m "$FIX" --port 0 --port-file "$tmp/port" --ctx 256 "$@" > "$tmp/srv.log" 2>&1 &
  PID=$!
  for _ in $(seq 300); do
    if [ -s "$tmp/port" ] && curl -sf "http://127.0.0.1:$(cat "$tmp/port")/health" >/dev/null 2>&1; then break; fi
    kill -0 $PID 2>/dev/null || break
    sleep 0.1
  done
  URL=http://127.0.0.1:$(cat "$tmp/port" 2>/dev/null)
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }
post() { curl -s -o "$tmp/body" -w '%{http_code}' "$URL$1" -H 'Content-Type: application/json' -d "$2" "${@:3}"; }
chat() { echo "{\"messages\":[{\"role\":\"user\",\"content\":\"${2:-Hello there}\"}],\"temperature\":0,$1}"; }
sse_join() { grep '^data: {' "$1" | sed 's/^data: //' | jq -j '.choices[0].delta.content // .choices[0].text // empty'; }

# ---- one server, default flags ----------------------------------------------------------------------------------
start
check serve_health_ok '[ "$(curl -s "$URL/health")" = "{\"status\":\"ok\"}" ]' "$(curl -s "$URL/health"); $(tail -3 "$tmp/srv.log")"
curl -s "$URL/v1/models" > "$tmp/m"
check serve_models_list 'jq -e ".object==\"list\" and .data[0].id==\"olmo2_gen\" and .data[0].object==\"model\" and (.data[0].created|type==\"number\")" "$tmp/m" >/dev/null' "$(cat "$tmp/m")"
code=$(curl -s -o "$tmp/b" -w '%{http_code}' "$URL/v1/models/olmo2_gen"); code2=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models/other")
check serve_models_retrieve '[ $code = 200 ] && [ $code2 = 404 ] && jq -e ".id==\"olmo2_gen\"" "$tmp/b" >/dev/null' "$code $code2"

# chat, greedy
code=$(post /v1/chat/completions "$(chat '"max_tokens":8')"); cp "$tmp/body" "$tmp/c1"
now=$(date +%s)
check serve_chat_shape '[ $code = 200 ] && jq -e --argjson now $now "(.id|startswith(\"chatcmpl-\")) and .object==\"chat.completion\" and .choices[0].message.role==\"assistant\" and (.choices[0].finish_reason|IN(\"stop\",\"length\")) and .usage.total_tokens==.usage.prompt_tokens+.usage.completion_tokens and ((.created-\$now)|fabs<60) and .usage.completion_tokens<=8" "$tmp/c1" >/dev/null' "$code $(cat "$tmp/c1")"
content=$(jq -j '.choices[0].message.content' "$tmp/c1")
post /v1/chat/completions "$(chat '"max_tokens":8')" >/dev/null
check serve_chat_greedy_repeatable '[ "$(jq -j .choices[0].message.content "$tmp/body")" = "$content" ] && [ -n "$content" ]'
post /v1/chat/completions "$(chat '"max_tokens":12,"temperature":1,"seed":7')" >/dev/null; s1=$(jq -j .choices[0].message.content "$tmp/body")
post /v1/chat/completions "$(chat '"max_tokens":12,"temperature":1,"seed":7')" >/dev/null; s2=$(jq -j .choices[0].message.content "$tmp/body")
post /v1/chat/completions "$(chat '"max_tokens":12,"temperature":1,"seed":8')" >/dev/null; s3=$(jq -j .choices[0].message.content "$tmp/body")
check serve_seed_reproducible '[ "$s1" = "$s2" ] && [ "$s1" != "$s3" ]' "seed7 '$s1' '$s2' seed8 '$s3'"

# streaming
curl -sN -D "$tmp/h" "$URL/v1/chat/completions" -d "$(chat '"max_tokens":8,"stream":true')" > "$tmp/s"
ok=1
grep -qi '^content-type: text/event-stream' "$tmp/h" || ok=0
[ "$(tail -c 14 "$tmp/s" | tr '\n' '|')" = "data: [DONE]||" ] || ok=0
# every event is one data: line followed by a blank line
awk 'NR%2==1 && !/^data: /{bad=1} NR%2==0 && $0!=""{bad=1} END{exit bad}' "$tmp/s" || ok=0
[ "$(grep '^data: {' "$tmp/s" | head -1 | sed 's/^data: //' | jq -r .choices[0].delta.role)" = assistant ] || ok=0
[ "$(grep '^data: {' "$tmp/s" | sed 's/^data: //' | jq -r '.choices[0].finish_reason // empty' | wc -l)" = 1 ] || ok=0
[ "$(sse_join "$tmp/s")" = "$content" ] || ok=0
check serve_stream_events '[ $ok = 1 ]' "$(head -c 600 "$tmp/s")"
curl -sN "$URL/v1/chat/completions" -d "$(chat '"max_tokens":8,"stream":true,"stream_options":{"include_usage":true}')" > "$tmp/s"
last=$(grep '^data: {' "$tmp/s" | tail -1 | sed 's/^data: //')
check serve_stream_include_usage '[ "$(echo "$last" | jq -c "[.choices, .usage.prompt_tokens, .usage.completion_tokens, .usage.total_tokens]")" = "$(jq -c "[[], .usage.prompt_tokens, .usage.completion_tokens, .usage.total_tokens]" "$tmp/c1")" ] && [ "$(grep "^data: {" "$tmp/s" | head -n -1 | sed "s/^data: //" | jq -r .usage | sort -u)" = null ]' "$last"

# max_tokens
post /v1/chat/completions "$(chat '"max_tokens":1')" >/dev/null
check serve_max_tokens_1 'jq -e ".usage.completion_tokens==1 and .choices[0].finish_reason==\"length\"" "$tmp/body" >/dev/null' "$(cat "$tmp/body")"
post /v1/chat/completions "$(chat '"max_tokens":9,"max_completion_tokens":2')" >/dev/null
check serve_max_completion_tokens_preferred 'jq -e ".usage.completion_tokens==2" "$tmp/body" >/dev/null' "$(cat "$tmp/body")"

# stop strings: a piece of the greedy output
long=$(post /v1/chat/completions "$(chat '"max_tokens":24')" >/dev/null; jq -j .choices[0].message.content "$tmp/body")
stopstr=$(python3 -c 'import sys; t=sys.argv[1]; print(t[4:6], end="")' "$long")
want=$(python3 -c 'import sys; t,s=sys.argv[1:]; print(t[:t.index(s)], end="")' "$long" "$stopstr")
post /v1/chat/completions "$(chat "\"max_tokens\":24,\"stop\":$(jq -Rn --arg s "$stopstr" '$s')")" >/dev/null
check serve_stop_string '[ "$(jq -j .choices[0].message.content "$tmp/body")" = "$want" ] && jq -e ".choices[0].finish_reason==\"stop\"" "$tmp/body" >/dev/null' "stop '$stopstr' in '$long': $(cat "$tmp/body")"
curl -sN "$URL/v1/chat/completions" -d "$(chat "\"max_tokens\":24,\"stream\":true,\"stop\":[$(jq -Rn --arg s "$stopstr" '$s')]")" > "$tmp/s"
check serve_stop_string_stream '[ -n "$want" ] && [ "$(sse_join "$tmp/s")" = "$want" ] && ! grep "^data: {" "$tmp/s" | sed "s/^data: //" | jq -j ".choices[0].delta.content // empty" | grep -qF -- "$stopstr"' "$(sse_join "$tmp/s")"

# completions
prompt=$(head -1 "$FIX/golden.txt" | cut -f1)
"$OLMO" generate -m "$FIX" -p "$prompt" -n 12 --temperature 0 --ctx 256 > "$tmp/gen" 2>/dev/null
code=$(post /v1/completions "{\"prompt\":$(jq -Rn --arg s "$prompt" '$s'),\"max_tokens\":12,\"temperature\":0}")
check serve_completion_matches_generate '[ $code = 200 ] && [ "$(jq -j .choices[0].text "$tmp/body")" = "$(cat "$tmp/gen")" ] && jq -e ".object==\"text_completion\" and (.id|startswith(\"cmpl-\"))" "$tmp/body" >/dev/null' "$(cat "$tmp/body") vs $(cat "$tmp/gen")"
post /v1/completions '{"prompt":"Once upon","temperature":0}' >/dev/null
check serve_completion_default_16 'jq -e ".usage.completion_tokens<=16 and .usage.completion_tokens>0" "$tmp/body" >/dev/null' "$(cat "$tmp/body")"
post /v1/completions '{"prompt":[10,20,30,40],"max_tokens":3,"temperature":0}' >/dev/null
check serve_completion_token_ids 'jq -e ".usage.prompt_tokens==4" "$tmp/body" >/dev/null' "$(cat "$tmp/body")"
post /v1/completions '{"prompt":"Once upon","max_tokens":3,"echo":true,"temperature":0}' >/dev/null
check serve_completion_echo 'jq -e ".choices[0].text|startswith(\"Once upon\")" "$tmp/body" >/dev/null' "$(cat "$tmp/body")"
post /v1/completions '{"prompt":"Once upon a time","max_tokens":0,"echo":true,"logprobs":1}' >/dev/null
check serve_completion_echo_logprobs_scoring 'jq -e "(.choices[0].logprobs.token_logprobs|length)==.usage.prompt_tokens and .choices[0].logprobs.token_logprobs[0]==null and .choices[0].logprobs.top_logprobs[0]==null and ([.choices[0].logprobs.token_logprobs[1:][]|.<=0]|all) and .usage.completion_tokens==0" "$tmp/body" >/dev/null' "$(cat "$tmp/body")"

# chat logprobs
post /v1/chat/completions "$(chat '"max_tokens":6,"logprobs":true,"top_logprobs":3')" >/dev/null
check serve_chat_logprobs 'jq -e "(.choices[0].logprobs.content|length)==.usage.completion_tokens and ([.choices[0].logprobs.content[] | (.top_logprobs|length)==3 and .top_logprobs[0].logprob>=.top_logprobs[1].logprob and .top_logprobs[1].logprob>=.top_logprobs[2].logprob and .top_logprobs[0].logprob<=0 and .top_logprobs[0].token==.token and (.bytes|type==\"array\")]|all)" "$tmp/body" >/dev/null' "$(head -c 800 "$tmp/body")"

# errors
e400() { jq -e --arg c "$1" --arg p "${2:-}" '.error.type=="invalid_request_error" and .error.code==$c and ($p=="" or .error.param==$p)' "$tmp/body" >/dev/null; }
code=$(post /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}], "n":2}')
check serve_n2_unsupported '[ $code = 400 ] && e400 unsupported_parameter n' "$code $(cat "$tmp/body")"
code=$(post /v1/chat/completions '{"messages": [')
check serve_err_bad_json '[ $code = 400 ] && e400 invalid_json' "$code $(cat "$tmp/body")"
code=$(post /v1/chat/completions '{"model":"x"}')
check serve_err_no_messages '[ $code = 400 ] && e400 invalid_value messages' "$code $(cat "$tmp/body")"
code=$(post /v1/chat/completions "$(chat '"temperature":5')")
check serve_err_temperature_range '[ $code = 400 ] && e400 invalid_value temperature' "$code $(cat "$tmp/body")"
code=$(post /v1/chat/completions "$(chat '"max_tokens":2,"foo":1,"user":"u","store":false')")
check serve_unknown_field_ignored '[ $code = 200 ]' "$code $(cat "$tmp/body")"
big=$(python3 -c 'print(" ".join(["word"]*400), end="")')
code=$(post /v1/chat/completions "$(chat '"max_tokens":2' "$big")")
check serve_err_context_length '[ $code = 400 ] && e400 context_length_exceeded && jq -e ".error.n_ctx==256" "$tmp/body" >/dev/null' "$code $(cat "$tmp/body")"
code=$(post /v1/chat/completions '{"messages":[{"role":"tool","content":"x"}]}')
check serve_err_tool_role '[ $code = 400 ] && e400 unsupported_parameter' "$code $(cat "$tmp/body")"
code=$(post /v1/completions '{"prompt":"a","top_logprobs":3,"suffix":"b"}')
check serve_err_suffix '[ $code = 400 ] && e400 unsupported_parameter suffix' "$code $(cat "$tmp/body")"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "$URL/v1/nothing")
check serve_err_404 '[ $code = 404 ] && jq -e ".error.type==\"not_found_error\"" "$tmp/body" >/dev/null' "$code $(cat "$tmp/body")"
code=$(curl -s -o "$tmp/body" -D "$tmp/h" -w '%{http_code}' "$URL/v1/chat/completions")
check serve_err_405 '[ $code = 405 ] && grep -qi "^allow: POST" "$tmp/h" && jq -e ".error.code==\"method_not_allowed\"" "$tmp/body" >/dev/null' "$code $(cat "$tmp/body")"
curl -s -D "$tmp/h" -o /dev/null "$URL/v1/models" -H 'Origin: http://evil.example'
check serve_cors_off_by_default '! grep -qi "^access-control-allow-origin" "$tmp/h"'
check serve_listens_on_loopback_only 'ss -ltn 2>/dev/null | grep -q "127.0.0.1:$(cat "$tmp/port") " && ! ss -ltn | grep -qE "(\*|0\.0\.0\.0|\[::\]):$(cat "$tmp/port") "' "$(ss -ltn | grep ":$(cat "$tmp/port") ")"
curl -s "$URL/metrics" > "$tmp/metrics"
check serve_metrics 'grep -q "^olmo_requests_total [1-9]" "$tmp/metrics"' "$(cat "$tmp/metrics")"
stop

# ---- prefix reuse within a slot ---------------------------------------------------------------------------------
start --parallel 1
sys=$(python3 -c 'print(" ".join(["system"]*8), end="")')
body="{\"messages\":[{\"role\":\"system\",\"content\":\"$sys\"},{\"role\":\"user\",\"content\":\"XXX\"}],\"max_tokens\":2,\"temperature\":0}"
post /v1/chat/completions "${body/XXX/first}" >/dev/null; cp "$tmp/body" "$tmp/p1"
post /v1/chat/completions "${body/XXX/second}" >/dev/null; cp "$tmp/body" "$tmp/p2"
check serve_prefix_cache_reused 'jq -e ".usage.prompt_tokens_details.cached_tokens==0" "$tmp/p1" >/dev/null && jq -e ".usage.prompt_tokens_details.cached_tokens>40 and .timings.prompt_n < .usage.prompt_tokens" "$tmp/p2" >/dev/null' "$(cat "$tmp/p1") // $(cat "$tmp/p2")"
stop

# ---- auth, limits, CORS -----------------------------------------------------------------------------------------
start --api-key sekrit --max-body 2048 --cors-origin http://x.example
check serve_auth_health_open '[ "$(curl -s -o /dev/null -w "%{http_code}" "$URL/health")" = 200 ]'
code=$(post /v1/chat/completions "$(chat '"max_tokens":2')")
code2=$(post /v1/chat/completions "$(chat '"max_tokens":2')" -H 'Authorization: Bearer wrong')
check serve_auth_401 '[ $code = 401 ] && [ $code2 = 401 ] && jq -e ".error.type==\"authentication_error\" and .error.code==\"invalid_api_key\"" "$tmp/body" >/dev/null' "$code $code2 $(cat "$tmp/body")"
code=$(post /v1/chat/completions "$(chat '"max_tokens":2')" -H 'Authorization: Bearer sekrit')
code2=$(post /v1/chat/completions "$(chat '"max_tokens":2')" -H 'X-Api-Key: sekrit')
check serve_auth_ok '[ $code = 200 ] && [ $code2 = 200 ]' "$code $code2"
big=$(python3 -c 'print("x"*5000, end="")')
code=$(post /v1/chat/completions "$(chat '"max_tokens":2' "$big")" -H 'Authorization: Bearer sekrit')
check serve_body_limit_413 '[ $code = 413 ] && jq -e ".error.code==\"request_too_large\"" "$tmp/body" >/dev/null' "$code $(cat "$tmp/body")"
code=$(curl -s -o /dev/null -D "$tmp/h" -w '%{http_code}' -X OPTIONS "$URL/v1/chat/completions" -H 'Origin: http://x.example' -H 'Access-Control-Request-Method: POST')
check serve_cors_preflight '[ $code = 204 ] && grep -qi "^access-control-allow-origin: http://x.example" "$tmp/h" && grep -qi "^access-control-allow-headers:.*authorization" "$tmp/h"' "$code $(cat "$tmp/h")"
stop

# ---- parallel slots: concurrency gives the same tokens, streams interleave, prefix copy between slots ----------
export OLMO_SERVE_TEST_STEP_MS=5
start --parallel 4
for i in 1 2 3 4; do
  post /v1/chat/completions "$(chat '"max_tokens":20' "prompt number $i")" >/dev/null; jq -j .choices[0].message.content "$tmp/body" > "$tmp/solo$i"
done
for i in 1 2 3 4; do
  curl -s "$URL/v1/chat/completions" -d "$(chat '"max_tokens":20' "prompt number $i")" | jq -j .choices[0].message.content > "$tmp/conc$i" &
done
wait $(jobs -p | grep -v "^$PID\$") 2>/dev/null
sleep 0.2
ok=1; for i in 1 2 3 4; do cmp -s "$tmp/solo$i" "$tmp/conc$i" || ok=0; done
check serve_concurrent_equals_solo '[ $ok = 1 ] && [ -s "$tmp/solo1" ]' "$(for i in 1 2 3 4; do echo "[$(cat "$tmp/solo$i")|$(cat "$tmp/conc$i")]"; done)"
ts() { while IFS= read -r l; do [ -n "$l" ] && echo "$(date +%s%N) $l"; done; }
curl -sN "$URL/v1/chat/completions" -d "$(chat '"max_tokens":40,"stream":true' "stream A")" | ts > "$tmp/A" &
curl -sN "$URL/v1/chat/completions" -d "$(chat '"max_tokens":40,"stream":true' "stream B")" | ts > "$tmp/B" &
sleep 0.05; while [ "$(grep -c DONE "$tmp/A" "$tmp/B" 2>/dev/null | awk -F: '{s+=$2} END{print s}')" != 2 ]; do sleep 0.1; done
firstA=$(grep '"content":"[^"]' "$tmp/A" | head -1 | cut -d' ' -f1); doneA=$(grep DONE "$tmp/A" | cut -d' ' -f1)
firstB=$(grep '"content":"[^"]' "$tmp/B" | head -1 | cut -d' ' -f1); doneB=$(grep DONE "$tmp/B" | cut -d' ' -f1)
check serve_two_streams_interleave '[ -n "$firstA" ] && [ -n "$firstB" ] && [ "$firstA" -lt "$doneB" ] && [ "$firstB" -lt "$doneA" ]' "A $firstA..$doneA B $firstB..$doneB"
# a second request sharing a running request's system prompt copies its cache rows (and still gives its solo text)
sys=$(python3 -c 'print(" ".join(["shared"]*8), end="")')
body="{\"messages\":[{\"role\":\"system\",\"content\":\"$sys\"},{\"role\":\"user\",\"content\":\"XXX\"}],\"max_tokens\":MAX,\"temperature\":0}"
b2=${body/XXX/two}
post /v1/chat/completions "${b2/MAX/6}" >/dev/null; jq -j .choices[0].message.content "$tmp/body" > "$tmp/solo_two"
stop; start --parallel 2
b1=${body/XXX/one}
curl -s "$URL/v1/chat/completions" -d "${b1/MAX/150}" > /dev/null &
sleep 0.3
post /v1/chat/completions "${b2/MAX/6}" >/dev/null
check serve_prefix_copied_between_slots 'jq -e ".usage.prompt_tokens_details.cached_tokens>40" "$tmp/body" >/dev/null && [ "$(jq -j .choices[0].message.content "$tmp/body")" = "$(cat "$tmp/solo_two")" ]' "$(cat "$tmp/body") solo $(cat "$tmp/solo_two")"
wait $(jobs -p | grep -v "^$PID\$") 2>/dev/null
stop

# ---- queue full → 503; a client that leaves frees its slot -------------------------------------------------------
export OLMO_SERVE_TEST_STEP_MS=30
start --parallel 1 --queue 1
for i in 1 2 3 4; do
  curl -s -o /dev/null -D "$tmp/q$i" "$URL/v1/chat/completions" -d "$(chat '"max_tokens":15')" &
done
wait $(jobs -p | grep -v "^$PID\$") 2>/dev/null
check serve_queue_full_503 'grep -l "^HTTP/1.1 503" "$tmp"/q? >/dev/null && grep -qi "^retry-after: 1" $(grep -l "^HTTP/1.1 503" "$tmp"/q? | head -1)' "$(head -1 "$tmp"/q?)"
# abort a long stream after its first chunk: the next request must not wait for the 200 tokens (6 s) to finish
curl -sN "$URL/v1/chat/completions" -d "$(chat '"max_tokens":200,"stream":true')" | head -c 400 > /dev/null
t0=$(date +%s%N)
post /v1/chat/completions "$(chat '"max_tokens":2')" >/dev/null
t1=$(date +%s%N)
check serve_stream_abort_frees_slot '[ $(( (t1 - t0) / 1000000 )) -lt 2500 ] && grep -q "cancelled" "$tmp/srv.log"' "$(( (t1 - t0) / 1000000 )) ms; $(grep -c cancelled "$tmp/srv.log") cancellations"
# the same for a non-streaming request whose client gives up
curl -s -m 0.5 -o /dev/null "$URL/v1/chat/completions" -d "$(chat '"max_tokens":200')"
t0=$(date +%s%N)
post /v1/chat/completions "$(chat '"max_tokens":2')" >/dev/null
t1=$(date +%s%N)
check serve_request_abort_frees_slot '[ $(( (t1 - t0) / 1000000 )) -lt 2500 ] && [ "$(grep -c cancelled "$tmp/srv.log")" -ge 2 ]' "$(( (t1 - t0) / 1000000 )) ms; $(grep -c cancelled "$tmp/srv.log") cancellations"
check serve_log_has_no_prompt_text '! grep -q "Hello there" "$tmp/srv.log"'
unset OLMO_SERVE_TEST_STEP_MS
stop

# ---- bad flags and checkpoints --------------------------------------------------------------------------------
"$OLMO" serve -m /nonexistent --port 0 > "$tmp/o" 2>&1; rc=$?
check serve_bad_model_dir '[ $rc -ne 0 ] && grep -q nonexistent "$tmp/o"' "rc=$rc $(cat "$tmp/o")"
"$OLMO" serve -m "$FIX" --host 1.2.3 > "$tmp/o" 2>&1; rc=$?
check serve_bad_host '[ $rc -ne 0 ] && grep -q "1.2.3" "$tmp/o"' "rc=$rc $(cat "$tmp/o")"

start --quant q8
code=$(post /v1/chat/completions "$(chat '"max_tokens":4')")
check serve_quant_q8 '[ "$code" = 200 ] && grep -q "Q8 weights" "$tmp/srv.log"' "$code $(cat "$tmp/body") $(tail -2 "$tmp/srv.log")"
stop
"$OLMO" serve -m "$FIX" --quant q5 > "$tmp/o" 2>&1; rc=$?
check serve_bad_quant '[ $rc -ne 0 ] && grep -q "q5" "$tmp/o"' "rc=$rc $(cat "$tmp/o")"

# ---- the official openai npm client ---------------------------------------------------------------------------
NPM_DIR=${OLMO_NPM_OPENAI_DIR:-$PWD/build/npm-openai}
sdk_skip() { for t in serve_sdk_models serve_sdk_chat serve_sdk_chat_stream serve_sdk_completion serve_sdk_bad_request serve_sdk_auth serve_sdk_abort; do echo "SKIP $t: $1"; done; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then sdk_skip "node/npm not installed"
else
  if [ ! -d "$NPM_DIR/node_modules/openai" ]; then
    mkdir -p "$NPM_DIR"
    ( cd "$NPM_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
      timeout 180 npm install --no-audit --no-fund openai@6 > "$tmp/npm.log" 2>&1 ) || true
  fi
  if [ ! -d "$NPM_DIR/node_modules/openai" ]; then sdk_skip "could not npm install openai@6 (no network?): $(tail -1 "$tmp/npm.log" 2>/dev/null)"
  else
    export OLMO_SERVE_TEST_STEP_MS=20
    start --parallel 1 --api-key sdk-key
    NODE_PATH=$NPM_DIR/node_modules SDK_DIR=$NPM_DIR SERVE_URL=$URL SERVE_KEY=sdk-key timeout 120 node tests/serve/openai_sdk.mjs 2> "$tmp/sdk.err" || echo "FAIL serve_sdk_run: $(tail -5 "$tmp/sdk.err")"
    stop
  fi
fi
