#!/usr/bin/env bash
# llama_peer.test.sh — the llama.cpp peer of bench/llama_cpp_peer.sh computes the same model as olmo.c and as the
# PyTorch reference (docs/bench-peers.md). On tiny committed fixtures (tests/fixtures/model, written by
# tests/ref/make_model_fixtures.py), in seconds:
#   - peer_gguf refuses a non-OLMo checkpoint (llama) with a message and leaves no file (always runs);
#   - BF16 GGUF of the sharded bf16 GQA fixture: llama.cpp's logits (prefill, then decode steps) vs the reference
#     and vs olmo.c (peer_logits), within 2 % of the largest logit, same next token everywhere;
#   - Q8_0 GGUF of the f32 GQA fixture: llama.cpp vs the reference within 5 % (Q8_0's own error on 32-wide rows
#     is about 3 %; a wrong block layout gives nonsense).
# The llama.cpp part needs node and the npm peer (bench/llama_cpp_peer.sh --install-only, 85 MB); CI does not
# install it, so those cases SKIP saying so.
set -u
B=${OLMO_BUILD:-build}/bench
F=tests/fixtures/model
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export OLMO_PEER_DIR=${OLMO_PEER_DIR:-$PWD/bench/peers}

if [ ! -x "$B/peer_gguf" ] || [ ! -x "$B/peer_logits" ]; then
  echo "FAIL peer tools: $B/peer_gguf or $B/peer_logits not built (make test builds them)"
  exit 1
fi

# a refused conversion: message, non-zero status, nothing written
if "$B/peer_gguf" "$F/llama_f32_gqa" "$T/x.gguf" 2>"$T/err"; then
  echo "FAIL peer_gguf converted a llama checkpoint"
elif grep -q "handles olmo, olmo2, olmo3 and olmoe" "$T/err" && ! ls "$T"/x.gguf* >/dev/null 2>&1; then
  echo "PASS peer_gguf refuses model_type llama with a message and leaves no file"
else
  echo "FAIL peer_gguf refusal: message '$(cat "$T/err")', files: $(ls "$T")"
fi

if ! command -v node >/dev/null; then
  echo "SKIP llama.cpp peer: node is not installed"
  exit 0
fi
if [ ! -f "$OLMO_PEER_DIR/node_modules/node-llama-cpp/package.json" ]; then
  echo "SKIP llama.cpp peer: node-llama-cpp not installed in $OLMO_PEER_DIR (bench/llama_cpp_peer.sh --install-only)"
  exit 0
fi

check() {   # name fixture gguf-type tolerance
  local name=$1 dir=$F/$2 ty=$3 tol=$4 ids pre
  if ! "$B/peer_gguf" "$dir" "$T/m.gguf" --type "$ty" 2>"$T/err"; then
    echo "FAIL $name: peer_gguf: $(cat "$T/err")"; return
  fi
  read -r ids pre < <(node bench/peer_compare.mjs ref-tokens "$dir/ref.safetensors")
  node bench/peer_compare.mjs ref-logits "$dir/ref.safetensors" "$T/ref.f32"
  # the GGUF's synthetic vocabulary loads: llama.cpp returns one logit per config vocab_size id
  if ! node bench/llama_peer.mjs logits "$T/m.gguf" "$T/llama.f32" --tokens "$ids" --prefill "$pre" \
       --threads 2 >"$T/out" 2>"$T/err"; then
    echo "FAIL $name: llama.cpp did not run the GGUF: $(tail -3 "$T/err")"; return
  fi
  local V
  V=$(sed -n 's/.*"vocab_size": *\([0-9]*\).*/\1/p' "$dir/config.json")
  if ! grep -q "\"vocab\":$V}" "$T/out"; then echo "FAIL $name: llama.cpp vocabulary: $(cat "$T/out"), expected $V"; return; fi
  if node bench/peer_compare.mjs compare "$T/llama.f32" "$T/ref.f32" --vocab "$V" --names llama.cpp,ref --tol "$tol" >"$T/cmp"; then
    echo "PASS $name: llama.cpp vs PyTorch reference: $(tail -1 "$T/cmp" | sed 's/.*max |diff|/max |diff|/')"
  else
    echo "FAIL $name: llama.cpp vs PyTorch reference:"; sed 's/^/    /' "$T/cmp"
  fi
  if [ "$ty" = bf16 ]; then
    "$B/peer_logits" "$dir" "$T/olmo.f32" --tokens "$ids" --prefill "$pre" >/dev/null
    if node bench/peer_compare.mjs compare "$T/olmo.f32" "$T/llama.f32" --vocab "$V" --names olmo.c,llama.cpp --tol "$tol" >"$T/cmp"; then
      echo "PASS $name: olmo.c vs llama.cpp: $(tail -1 "$T/cmp" | sed 's/.*max |diff|/max |diff|/')"
    else
      echo "FAIL $name: olmo.c vs llama.cpp:"; sed 's/^/    /' "$T/cmp"
    fi
  fi
}
check "bf16 GQA sharded" olmo2_bf16_gqa_sharded bf16 0.02
check "q8_0 GQA" olmo2_f32_gqa q8_0 0.05
