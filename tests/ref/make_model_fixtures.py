#!/usr/bin/python3
"""make_model_fixtures.py — tiny random OLMo / OLMo-2 / llama checkpoints in exact Hugging Face layout, plus
reference logits, for tests/test_model.c and tests/generate.test.sh.

The reference forward pass below is written from the spec (../shared/spec/olmo-model.md §3), in float64 with
PyTorch, independently of olmo.c and of transformers (not installed here). Files written per fixture directory
tests/fixtures/model/<name>/:
  config.json, model.safetensors (or model-0000k-of-00002.safetensors + model.safetensors.index.json),
  ref.safetensors: tokens I32 [P+S]; prefill_logits F32 [P, V] (positions 0..P-1 in one call);
                   decode_logits F32 [S, V] (tokens P..P+S-1 fed one at a time after the prefill)
The generate fixture also gets a byte-level tokenizer.json, tokenizer_config.json, generation_config.json and
golden.txt (the greedy continuation of a prompt, decoded with Python's UTF-8 'replace' rule).

Weights are drawn with std 1/sqrt(fan_in) (embeddings std 1, norm weights 1 + 0.1·N(0,1)) so activations are O(1)
and every part of the math (clip_qkv, QK-norm, GQA grouping, RoPE) moves the logits visibly.

Run from the repository root:  /usr/bin/python3 tests/ref/make_model_fixtures.py
"""
import json
import math
import os
import struct

import torch

OUT = "tests/fixtures/model"
P, S = 5, 4           # prefill length, decode steps


def bf16_round(t):
    return t.to(torch.float32).to(torch.bfloat16).to(torch.float64)


# ---- safetensors writer (HF layout: dtype-size-descending then name order, header space-padded to 8) ----
DT = {"F32": (torch.float32, 4), "BF16": (torch.bfloat16, 2), "F16": (torch.float16, 2), "I32": (torch.int32, 4)}


def tensor_bytes(t, dtype):
    tt = t.to(DT[dtype][0]).contiguous()
    if dtype in ("BF16", "F16"):
        return tt.view(torch.int16).numpy().tobytes()
    return tt.numpy().tobytes()


def write_safetensors(path, tensors):
    """tensors: dict name -> (torch tensor, dtype string)"""
    items = sorted(tensors.items(), key=lambda kv: (-DT[kv[1][1]][1], kv[0]))
    header = {"__metadata__": {"format": "pt"}}
    blobs, at = [], 0
    for name, (t, dtype) in items:
        b = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- the reference model (spec §3), float64 ----
def layernorm(x):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-5)


def rmsnorm(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def rope(x, pos, theta):
    """x [T, n_heads, hd]; rotate-half pairing j <-> j + hd/2; inv_freq computed in fp32 as HF does."""
    hd = x.shape[-1]
    half = hd // 2
    inv = 1.0 / (torch.tensor(theta, dtype=torch.float32) ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ang = torch.tensor(pos, dtype=torch.float32)[:, None] * inv[None, :]
    c, s = torch.cos(ang.double())[:, None, :], torch.sin(ang.double())[:, None, :]
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * c - b * s, b * c + a * s], -1)


class Ref:
    """Holds a KV cache; forward(ids, pos0) returns logits [T, V] for the new tokens."""

    def __init__(self, cfg, w):
        self.c, self.w = cfg, w
        self.K = [None] * cfg["num_hidden_layers"]
        self.V = [None] * cfg["num_hidden_layers"]

    def forward(self, ids, pos0):
        c, w = self.c, self.w
        mt = c["model_type"]
        H, Hkv = c["num_attention_heads"], c["num_key_value_heads"]
        hd = c["hidden_size"] // H
        eps = c.get("rms_norm_eps", 1e-5)
        T = len(ids)
        pos = list(range(pos0, pos0 + T))
        h = w["model.embed_tokens.weight"][ids]
        for l in range(c["num_hidden_layers"]):
            p = f"model.layers.{l}."
            if mt == "olmo":
                a = layernorm(h)
            elif mt == "llama":
                a = rmsnorm(h, w[p + "input_layernorm.weight"], eps)
            else:
                a = h
            q = a @ w[p + "self_attn.q_proj.weight"].T
            k = a @ w[p + "self_attn.k_proj.weight"].T
            v = a @ w[p + "self_attn.v_proj.weight"].T
            if mt == "olmo2":
                q = rmsnorm(q, w[p + "self_attn.q_norm.weight"], eps)
                k = rmsnorm(k, w[p + "self_attn.k_norm.weight"], eps)
            if mt == "olmo" and c.get("clip_qkv"):
                cl = c["clip_qkv"]
                q, k, v = q.clamp(-cl, cl), k.clamp(-cl, cl), v.clamp(-cl, cl)
            q = rope(q.view(T, H, hd), pos, c["rope_theta"])
            k = rope(k.view(T, Hkv, hd), pos, c["rope_theta"])
            v = v.view(T, Hkv, hd)
            self.K[l] = k if self.K[l] is None else torch.cat([self.K[l], k])
            self.V[l] = v if self.V[l] is None else torch.cat([self.V[l], v])
            Kall, Vall = self.K[l], self.V[l]
            n = Kall.shape[0]
            out = torch.zeros(T, H, hd, dtype=torch.float64)
            for hh in range(H):
                g = hh // (H // Hkv)
                sc = (q[:, hh, :] @ Kall[:, g, :].T) / math.sqrt(hd)
                mask = torch.tensor([[j <= pos[i] for j in range(n)] for i in range(T)])
                sc = sc.masked_fill(~mask, float("-inf"))
                out[:, hh, :] = torch.softmax(sc, -1) @ Vall[:, g, :]
            o = out.reshape(T, H * hd) @ w[p + "self_attn.o_proj.weight"].T
            if mt == "olmo2":
                h = h + rmsnorm(o, w[p + "post_attention_layernorm.weight"], eps)
            else:
                h = h + o
            if mt == "olmo":
                a = layernorm(h)
            elif mt == "llama":
                a = rmsnorm(h, w[p + "post_attention_layernorm.weight"], eps)
            else:
                a = h
            g_ = a @ w[p + "mlp.gate_proj.weight"].T
            u = a @ w[p + "mlp.up_proj.weight"].T
            m = (g_ * torch.sigmoid(g_) * u) @ w[p + "mlp.down_proj.weight"].T
            if mt == "olmo2":
                h = h + rmsnorm(m, w[p + "post_feedforward_layernorm.weight"], eps)
            else:
                h = h + m
        h = layernorm(h) if mt == "olmo" else rmsnorm(h, w["model.norm.weight"], eps)
        lm = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
        return h @ lm.T


# ---- fixture construction ----
def make_config(mt, d, L, H, Hkv, I, V, tied, clip=None):
    c = {
        "architectures": [{"olmo": "OlmoForCausalLM", "olmo2": "Olmo2ForCausalLM", "llama": "LlamaForCausalLM"}[mt]],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": None,
        "eos_token_id": 264 if V > 256 else V - 1,
        "hidden_act": "silu",
        "hidden_size": d,
        "initializer_range": 0.02,
        "intermediate_size": I,
        "max_position_embeddings": 64,
        "model_type": mt,
        "num_attention_heads": H,
        "num_hidden_layers": L,
        "num_key_value_heads": Hkv,
        "pad_token_id": 1,
        "rope_scaling": None,
        "rope_theta": 10000.0 if mt != "olmo2" else 500000.0,
        "tie_word_embeddings": tied,
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
        "use_cache": True,
        "vocab_size": V,
    }
    if mt == "olmo":
        c["clip_qkv"] = clip
    else:
        c["rms_norm_eps"] = 1e-6 if mt == "olmo2" else 1e-5
    if mt == "llama":
        c["head_dim"] = d // H
        c["mlp_bias"] = False
        c["pretraining_tp"] = 1
    return c


def make_weights(c, gen):
    d, I, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    H, Hkv = c["num_attention_heads"], c["num_key_value_heads"]
    hd = d // H
    mt = c["model_type"]

    def lin(o, i):
        return torch.randn(o, i, generator=gen, dtype=torch.float64) / math.sqrt(i)

    def normw(n):
        return 1 + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)

    w = {"model.embed_tokens.weight": torch.randn(V, d, generator=gen, dtype=torch.float64)}
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "self_attn.q_proj.weight"] = lin(H * hd, d)
        w[p + "self_attn.k_proj.weight"] = lin(Hkv * hd, d)
        w[p + "self_attn.v_proj.weight"] = lin(Hkv * hd, d)
        w[p + "self_attn.o_proj.weight"] = lin(d, H * hd)
        w[p + "mlp.gate_proj.weight"] = lin(I, d)
        w[p + "mlp.up_proj.weight"] = lin(I, d)
        w[p + "mlp.down_proj.weight"] = lin(d, I)
        if mt == "olmo2":
            w[p + "self_attn.q_norm.weight"] = normw(H * hd)
            w[p + "self_attn.k_norm.weight"] = normw(Hkv * hd)
            w[p + "post_attention_layernorm.weight"] = normw(d)
            w[p + "post_feedforward_layernorm.weight"] = normw(d)
        if mt == "llama":
            w[p + "input_layernorm.weight"] = normw(d)
            w[p + "post_attention_layernorm.weight"] = normw(d)
    if mt != "olmo":
        w["model.norm.weight"] = normw(d)
    if not c["tie_word_embeddings"]:
        w["lm_head.weight"] = lin(V, d)
    return w


def byte_tokenizer(V, eos):
    """A byte-level BPE tokenizer.json: ids 0..255 are the GPT-2 byte characters, a few merges, <|endoftext|>."""
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_char = {b: chr(c) for b, c in zip(bs, cs)}
    vocab = {byte_char[b]: b for b in range(256)}
    merges = []
    for a, b in [("t", "h"), ("th", "e"), ("Ġ", "t"), ("Ġt", "h"), ("Ġth", "e"), ("Ġ", "a"), ("i", "n"), ("o", "n")]:
        merges.append(f"{a} {b}")
        vocab[a + b] = len(vocab)
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": eos, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    # byte string of every id (for the golden decode)
    inv = {v: k for k, v in vocab.items()}
    char_byte = {c: b for b, c in byte_char.items()}
    id_bytes = {i: bytes(char_byte[ch] for ch in s) for i, s in inv.items()}
    return tok, id_bytes, byte_char


def encode_bytes(text, tok_vocab, merges, byte_char):
    """Greedy BPE on one word is enough for the prompt below (only the merges listed; GPT-2 split on spaces)."""
    import re
    ids = []
    for word in re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", text):
        sym = [byte_char[b] for b in word.encode()]
        ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        while True:
            best = None
            for i in range(len(sym) - 1):
                r = ranks.get((sym[i], sym[i + 1]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            sym = sym[:i] + [sym[i] + sym[i + 1]] + sym[i + 2:]
        ids += [tok_vocab[s] for s in sym]
    return ids


def fixture(name, mt, dtype, seed, d=32, L=2, H=4, Hkv=4, I=64, V=96, tied=False, clip=None, shards=1, gen_test=False, P=P, S=S):
    gen = torch.Generator().manual_seed(seed)
    c = make_config(mt, d, L, H, Hkv, I, V, tied, clip)
    c["torch_dtype"] = {"BF16": "bfloat16", "F16": "float16"}.get(dtype, "float32")
    w = make_weights(c, gen)
    if dtype == "BF16":
        w = {k: bf16_round(v) for k, v in w.items()}    # the reference sees exactly the stored values
    if dtype == "F16":
        w = {k: v.to(torch.float16).to(torch.float64) for k, v in w.items()}
    d_ = os.path.join(OUT, name)
    os.makedirs(d_, exist_ok=True)
    for f in os.listdir(d_):
        os.remove(os.path.join(d_, f))
    with open(os.path.join(d_, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    names = sorted(w)
    if shards == 1:
        write_safetensors(os.path.join(d_, "model.safetensors"), {k: (w[k], dtype) for k in names})
    else:
        wm, total = {}, 0
        for s in range(shards):
            fn = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = names[s::shards]
            write_safetensors(os.path.join(d_, fn), {k: (w[k], dtype) for k in part})
            for k in part:
                wm[k] = fn
                total += w[k].numel() * DT[dtype][1]
        with open(os.path.join(d_, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(wm.items()))}, f, indent=2)
    tokens = torch.randint(0, V, (P + S,), generator=gen).tolist()
    ref = Ref(c, w)
    pre = ref.forward(tokens[:P], 0)
    dec = torch.cat([ref.forward([tokens[P + i]], P + i) for i in range(S)])
    write_safetensors(os.path.join(d_, "ref.safetensors"), {
        "tokens": (torch.tensor(tokens, dtype=torch.int32), "I32"),
        "prefill_logits": (pre, "F32"), "decode_logits": (dec, "F32")})
    if gen_test:
        eos = c["eos_token_id"]
        tok, id_bytes, byte_char = byte_tokenizer(V, eos)
        with open(os.path.join(d_, "tokenizer.json"), "w") as f:
            json.dump(tok, f, ensure_ascii=False, indent=1)
        with open(os.path.join(d_, "tokenizer_config.json"), "w") as f:
            json.dump({"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": False,
                       "chat_template": "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + '\n' }}{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '\n' }}{% elif message['role'] == 'assistant' %}{% if not loop.last %}{{ '<|assistant|>\n'  + message['content'] + eos_token + '\n' }}{% else %}{{ '<|assistant|>\n'  + message['content'] + eos_token }}{% endif %}{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}{% endfor %}",
                       "tokenizer_class": "GPT2Tokenizer"}, f, indent=2)
        with open(os.path.join(d_, "generation_config.json"), "w") as f:
            json.dump({"eos_token_id": eos, "pad_token_id": 1, "transformers_version": "4.46.0"}, f, indent=2)
        prompt = "the cat sat on"
        ids = encode_bytes(prompt, tok["model"]["vocab"], tok["model"]["merges"], byte_char)
        g = Ref(c, w)
        logits = g.forward(ids, 0)
        out, n_new, pos = [], 12, len(ids)
        for _ in range(n_new):
            top2 = torch.topk(logits[-1], 2).values
            assert top2[0] - top2[1] > 1e-3, "greedy near-tie; pick another seed"
            nxt = int(torch.argmax(logits[-1]))
            if nxt == eos:
                break
            out.append(nxt)
            logits = g.forward([nxt], pos)
            pos += 1
        text = b"".join(id_bytes.get(i, b"") for i in out).decode("utf-8", errors="replace")
        # perplexity of a short text (one window, every token after the first scored)
        ptext = "the cat sat on the mat. then the other cat sat on the hat, and the dog sat in the sun."
        pids = encode_bytes(ptext, tok["model"]["vocab"], tok["model"]["merges"], byte_char)
        lp = torch.log_softmax(Ref(c, w).forward(pids, 0), -1)
        nll = -sum(lp[i, pids[i + 1]].item() for i in range(len(pids) - 1)) / (len(pids) - 1)
        with open(os.path.join(d_, "ppl_text.txt"), "w") as f:
            f.write(ptext)
        with open(os.path.join(d_, "ppl_golden.txt"), "w") as f:
            f.write(f"{len(pids) - 1} {nll:.6f}\n")
        with open(os.path.join(d_, "golden.txt"), "w", encoding="utf-8") as f:
            f.write(prompt + "\t" + json.dumps(ids) + "\t" + json.dumps(out) + "\n" + text)
    print(f"{name}: {mt} {dtype} tied={tied} clip={clip} H={H} Hkv={Hkv} shards={shards}")


if __name__ == "__main__":
    fixture("olmo1_f32_tied_clip", "olmo", "F32", 1, tied=True, clip=0.8)
    fixture("olmo1_bf16_untied", "olmo", "BF16", 2, tied=False, clip=None)
    fixture("olmo2_f32_gqa", "olmo2", "F32", 3, Hkv=2)
    fixture("olmo2_bf16_gqa_sharded", "olmo2", "BF16", 4, Hkv=2, shards=2)
    fixture("llama_f32_gqa", "llama", "F32", 5, Hkv=2)
    fixture("llama_bf16_tied", "llama", "BF16", 6, tied=True)
    fixture("olmo2_f16", "olmo2", "F16", 8, Hkv=2)
    # head_dim 16 and a 12-token prompt: the shape the tiled prompt-attention kernel (kernels/attention.h) takes
    fixture("olmo2_f32_hd16_long", "olmo2", "F32", 9, H=2, Hkv=1, V=64, I=32, P=12, S=3)
    fixture("olmo2_gen", "olmo2", "BF16", 7, Hkv=2, V=272, gen_test=True)
