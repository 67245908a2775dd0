#!/usr/bin/env bash
# gguf_export.test.sh — `olmo export gguf` files run in llama.cpp (the npm peer of bench/llama_cpp_peer.sh):
#   1. OLMo-2 (tiny olmo2_gen fixture, BF16): llama.cpp's logits equal olmo.c's (prefill + decode steps) within
#      2 % of the largest logit, same next token; Q4_0: llama.cpp vs olmo.c --quant q4 (the same 4-bit blocks of
#      every projection, test_gguf.c checks them bit for bit) — same next token everywhere and within 35 %: llama.cpp
#      also reads the embedding as Q4_0 (olmo.c keeps it bf16), which on this d = 32 toy (one block per row) moves
#      logits by ~27 %; a wrong nibble order or scale gives unrelated tokens;
#   2. OLMo-1 (olmo1_f32_tied_clip with a synthetic GPT-NeoX-style tokenizer): the permuted q/k rows and clip_qkv
#      give olmo.c's logits in llama.cpp within 2 %;
#   3. tokenization: llama.cpp with the GGUF's tokenizer encodes a wikitext excerpt to exactly the ids of
#      `olmo tokenizer encode` — for the fixture's GPT-NeoX-style tokenizer ("olmo" pre-tokenizer) and for the
#      real OLMo-2 dolma2 tokenizer ("dbrx") and OLMoE's gpt-neox-olmo-dolma-v1_5 ("olmo"), each exported with a
#      random 1-layer model (olmo2 / olmoe) of its vocabulary size;
#   4. the CLI refuses an unknown --type and a missing -o, an OLMoE checkpoint llama.cpp's olmoe cannot run
#      (olmoe_b: clip_qkv, norm_topk_prob, GQA) and an OLMo-3 one whose sliding layers have their own θ (olmo3_c),
#      with the reason (always runs);
#   5. OLMoE (tests/fixtures/olmo3_olmoe, synthetic tokenizer as in 2): the per-expert checkpoint as bf16 and the
#      fused-expert one as f16 give olmo.c's logits in llama.cpp's "olmoe" within 2 %; q4_0 against olmo.c --quant q4
#      within 35 % with the same next token (as in 1). tests/test_gguf_olmoe.c checks the same files without the peer;
#   6. OLMo-3 (as llama.cpp's olmo2 with sliding-window layers): olmo3_a (YaRN, rope_scaling) over 300 tokens — past
#      the window of 8 and original_max_position_embeddings 256 —, olmo3_b (rope_parameters) and olmo3_c (layers
#      full, sliding, sliding, full; GQA; its sliding θ set to the full one) within 2 % (tests/test_gguf_olmo3.c
#      checks the keys without the peer).
# Parts 1-3, 5 and 6 need node and the peer (bench/llama_cpp_peer.sh --install-only); without it they SKIP saying so.
set -u
F=tests/fixtures/model B=${OLMO_BUILD:-build}/bench T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export OLMO_PEER_DIR=${OLMO_PEER_DIR:-$PWD/bench/peers}

if "$OLMO" export gguf -m "$F/olmo2_gen" -o "$T/x.gguf" --type q5_k 2>"$T/e" || ! grep -q "q4_0" "$T/e"; then
  echo "FAIL export_gguf_unknown_type: $(cat "$T/e")"; else echo "PASS export_gguf_unknown_type"; fi
if "$OLMO" export gguf -m "$F/olmo2_gen" 2>"$T/e" || ! grep -q "required" "$T/e"; then
  echo "FAIL export_gguf_missing_output: $(cat "$T/e")"; else echo "PASS export_gguf_missing_output"; fi
if "$OLMO" export gguf -m tests/fixtures/olmo3_olmoe/olmoe_b -o "$T/x.gguf" 2>"$T/e" || ! grep -q "clip_qkv 1.5: llama.cpp's olmoe" "$T/e" || [ -e "$T/x.gguf" ]; then
  echo "FAIL export_gguf_olmoe_refuses_clip_qkv: $(cat "$T/e")"; else echo "PASS export_gguf_olmoe_refuses_clip_qkv"; fi
if "$OLMO" export gguf -m tests/fixtures/olmo3_olmoe/olmo3_c -o "$T/x.gguf" 2>"$T/e" || ! grep -q "sliding layers use rope_theta 10000" "$T/e" || [ -e "$T/x.gguf" ]; then
  echo "FAIL export_gguf_olmo3_refuses_sliding_theta: $(cat "$T/e")"; else echo "PASS export_gguf_olmo3_refuses_sliding_theta"; fi

if ! command -v node >/dev/null || [ ! -f "$OLMO_PEER_DIR/node_modules/node-llama-cpp/package.json" ]; then
  for t in export_gguf_olmo2_logits_in_llama_cpp export_gguf_q4_0_logits export_gguf_olmo1_logits_in_llama_cpp \
           export_gguf_tokenizer_olmo export_gguf_tokenizer_dolma2 export_gguf_olmoe_logits_in_llama_cpp \
           export_gguf_olmoe_fused_f16_logits export_gguf_olmoe_q4_0_logits export_gguf_tokenizer_olmoe \
           export_gguf_olmo3_yarn_swa_logits export_gguf_olmo3_rope_parameters_logits export_gguf_olmo3_pattern_gqa_logits; do
    echo "SKIP $t: the llama.cpp peer is not installed (bench/llama_cpp_peer.sh --install-only)"
  done
  exit 0
fi

agree() {   # name dir gguf tol [olmo quant [tokens [prefill]]]
  local name=$1 dir=$2 gguf=$3 tol=$4 q=${5:-none} nt=${6:-12} np=${7:-8}
  local V IDS
  V=$(sed -n 's/.*"vocab_size": *\([0-9]*\).*/\1/p' "$dir/config.json")
  IDS=$(awk -v v="$V" -v n="$nt" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d", i ? "," : "", (i * 37 + 5) % v }')
  if "$B/peer_logits" "$dir" "$T/o.f32" --tokens "$IDS" --prefill "$np" --quant "$q" >/dev/null 2>"$T/e1" &&
     node bench/llama_peer.mjs logits "$gguf" "$T/l.f32" --tokens "$IDS" --prefill "$np" --threads 1 >/dev/null 2>"$T/e2" &&
     node bench/peer_compare.mjs compare "$T/o.f32" "$T/l.f32" --vocab "$V" --names olmo.c,llama.cpp --tol "$tol" > "$T/cmp"; then
    echo "PASS $name: $(tail -1 "$T/cmp" | sed 's/.*max |diff|/max |diff|/')"
  else
    echo "FAIL $name: $(tail -2 "$T/cmp" 2>/dev/null) $(cat "$T/e1" "$T/e2")"
  fi
}

"$OLMO" export gguf -m "$F/olmo2_gen" -o "$T/g.gguf" --type bf16 2>/dev/null
agree export_gguf_olmo2_logits_in_llama_cpp "$F/olmo2_gen" "$T/g.gguf" 0.02
"$OLMO" export gguf -m "$F/olmo2_gen" -o "$T/g4.gguf" --type q4_0 2>/dev/null
agree export_gguf_q4_0_logits "$F/olmo2_gen" "$T/g4.gguf" 0.35 q4

with_tokenizer() {   # src_dir dst_dir: config + weights, and a GPT-NeoX-style tokenizer of one string per id
  mkdir -p "$2"
  cp "$1/config.json" "$1/model.safetensors" "$2/"
  local v
  v=$(sed -n 's/.*"vocab_size": *\([0-9]*\).*/\1/p' "$2/config.json")
  awk -v v="$v" 'BEGIN { printf "{\"added_tokens\":[],\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},\"model\":{\"type\":\"BPE\",\"merges\":[],\"vocab\":{";
    for (i = 0; i < v; i++) printf "%s\"t%d\":%d", i ? "," : "", i, i; print "}}}" }' > "$2/tokenizer.json"
}
with_tokenizer "$F/olmo1_f32_tied_clip" "$T/o1"
"$OLMO" export gguf -m "$T/o1" -o "$T/o1.gguf" --type bf16 2>/dev/null
agree export_gguf_olmo1_logits_in_llama_cpp "$T/o1" "$T/o1.gguf" 0.02

with_tokenizer tests/fixtures/olmo3_olmoe/olmoe_a "$T/oe"
with_tokenizer tests/fixtures/olmo3_olmoe/olmoe_fused "$T/oef"
"$OLMO" export gguf -m "$T/oe" -o "$T/oe.gguf" --type bf16 2>/dev/null
agree export_gguf_olmoe_logits_in_llama_cpp "$T/oe" "$T/oe.gguf" 0.02
"$OLMO" export gguf -m "$T/oef" -o "$T/oef.gguf" --type f16 2>/dev/null
agree export_gguf_olmoe_fused_f16_logits "$T/oef" "$T/oef.gguf" 0.02
"$OLMO" export gguf -m "$T/oe" -o "$T/oe4.gguf" --type q4_0 2>/dev/null
agree export_gguf_olmoe_q4_0_logits "$T/oe" "$T/oe4.gguf" 0.35 q4

# OLMo-3 (llama.cpp's olmo2 with sliding-window layers): 300 tokens, past the window (8) and past
# original_max_position_embeddings (256); olmo3_c with its sliding θ made equal to the full one (layers f,s,s,f, GQA)
with_tokenizer tests/fixtures/olmo3_olmoe/olmo3_a "$T/o3a"
with_tokenizer tests/fixtures/olmo3_olmoe/olmo3_b "$T/o3b"
with_tokenizer tests/fixtures/olmo3_olmoe/olmo3_c "$T/o3c"
sed -i 's/"rope_theta": 10000.0/"rope_theta": 500000.0/' "$T/o3c/config.json"
"$OLMO" export gguf -m "$T/o3a" -o "$T/o3a.gguf" --type f16 2>/dev/null
agree export_gguf_olmo3_yarn_swa_logits "$T/o3a" "$T/o3a.gguf" 0.02 none 300 280
"$OLMO" export gguf -m "$T/o3b" -o "$T/o3b.gguf" --type f16 2>/dev/null
agree export_gguf_olmo3_rope_parameters_logits "$T/o3b" "$T/o3b.gguf" 0.02 none 40 20
"$OLMO" export gguf -m "$T/o3c" -o "$T/o3c.gguf" --type bf16 2>/dev/null
agree export_gguf_olmo3_pattern_gqa_logits "$T/o3c" "$T/o3c.gguf" 0.02 none 40 20

head -c 3000 ../shared/data/corpora/wikitext2/wiki.test.raw.noblank.txt > "$T/text.txt" 2>/dev/null || printf 'Hello world, 12345 tokens!\n  Twice.' > "$T/text.txt"
tok_check() {   # name dir
  "$OLMO" export gguf -m "$2" -o "$T/tok.gguf" --type f16 2>"$T/e" || { echo "FAIL $1: export: $(cat "$T/e")"; return; }
  local a b
  a=$("$OLMO" tokenizer encode -t "$2/tokenizer.json" --whole "$T/text.txt" | tr -d ' \n')
  b=$(node bench/llama_peer.mjs tokenize "$T/tok.gguf" "$T/text.txt" 2>&1 | tr -d ' \n')
  if [ -n "$a" ] && [ "$a" = "$b" ]; then echo "PASS $1: $(echo "$a" | tr ',' '\n' | wc -l) ids equal"
  else echo "FAIL $1: olmo ${a:0:120} vs llama.cpp ${b:0:120}"; fi
}
tok_check export_gguf_tokenizer_olmo "$F/olmo2_gen"
# random_model DIR ARCH VOCAB EOS PAD: a 1-layer model of ARCH (olmo2 or olmoe) and the tokenizer's vocabulary size
random_model() {
  python3 - "$@" <<'PY'
import json, struct, sys, random
d, arch, V, eos, pad = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
D, I, E = 32, 64, 4
cfg = {"architectures": ["Olmo2ForCausalLM" if arch == "olmo2" else "OlmoeForCausalLM"], "model_type": arch,
       "hidden_size": D, "intermediate_size": I, "num_attention_heads": 2, "num_key_value_heads": 2, "num_hidden_layers": 1,
       "vocab_size": V, "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 500000.0,
       "tie_word_embeddings": False, "eos_token_id": eos, "pad_token_id": pad, "bos_token_id": None}
layer = [("self_attn.q_proj", [D, D]), ("self_attn.k_proj", [D, D]), ("self_attn.v_proj", [D, D]), ("self_attn.o_proj", [D, D]),
         ("self_attn.q_norm", [D]), ("self_attn.k_norm", [D])]
if arch == "olmo2":
    layer += [("mlp.gate_proj", [I, D]), ("mlp.up_proj", [I, D]), ("mlp.down_proj", [D, I]),
              ("post_attention_layernorm", [D]), ("post_feedforward_layernorm", [D])]
else:
    cfg.update({"num_experts": E, "num_experts_per_tok": 2, "norm_topk_prob": False, "clip_qkv": None})
    layer += [("input_layernorm", [D]), ("post_attention_layernorm", [D]), ("mlp.gate", [E, D])]
    for e in range(E):
        layer += [("mlp.experts.%d.gate_proj" % e, [I, D]), ("mlp.experts.%d.up_proj" % e, [I, D]), ("mlp.experts.%d.down_proj" % e, [D, I])]
json.dump(cfg, open(d + "/config.json", "w"))
shapes = {"model.embed_tokens.weight": [V, D], "lm_head.weight": [V, D], "model.norm.weight": [D]}
for n, s in layer:
    shapes["model.layers.0.%s.weight" % n] = s
hdr, off, blobs = {}, 0, []
rnd = random.Random(1)
for n in sorted(shapes):
    cnt = 1
    for x in shapes[n]: cnt *= x
    b = bytes(rnd.getrandbits(8) & 0x3f if i % 2 else rnd.getrandbits(8) for i in range(2 * cnt)) if len(shapes[n]) == 2 else struct.pack("<%de" % cnt, *([1.0] * cnt))
    dt = "BF16" if len(shapes[n]) == 2 else "F16"
    hdr[n] = {"dtype": dt, "shape": shapes[n], "data_offsets": [off, off + len(b)]}
    off += len(b); blobs.append(b)
h = json.dumps(hdr).encode(); h += b" " * (-len(h) % 8)
open(d + "/model.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
PY
}
TOKS=../shared/data/tokenizers
for case in "dolma2 allenai_dolma2.json olmo2 100352 100257 100277" \
            "olmoe allenai_gpt-neox-olmo-dolma-v1_5.json olmoe 50304 50279 1"; do
  set -- $case
  if [ -f "$TOKS/$2" ] && command -v python3 >/dev/null; then
    mkdir -p "$T/$1"
    cp "$TOKS/$2" "$T/$1/tokenizer.json"
    random_model "$T/$1" "$3" "$4" "$5" "$6"
    tok_check "export_gguf_tokenizer_$1" "$T/$1"
  else
    echo "SKIP export_gguf_tokenizer_$1: $TOKS/$2 or python3 not available"
  fi
done
