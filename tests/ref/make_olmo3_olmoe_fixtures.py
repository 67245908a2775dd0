#!/usr/bin/python3
"""make_olmo3_olmoe_fixtures.py — tiny random OLMo-3 (olmo3) and OLMoE (olmoe) checkpoints in the exact Hugging Face
layout, with reference logits, for tests/test_olmo3_olmoe.c.

The reference below is written from ../shared/spec/olmo-model.md §3.4/§3.5 and olmo3-olmoe-addendum.md, in float64
with PyTorch (torch 1.13; no transformers), independently of olmo.c's C code: its own YaRN (addendum §3, frequencies
in float32 as HF computes them), its own sliding-window mask over absolute positions (addendum §4), its own router
(softmax over all experts, then top-k, ties to the lower index, optional renormalisation; addendum §5), and it
recomputes attention over the whole history for every call (no ring buffer), so olmo.c's ring cache is checked
against plain masking.

Fixtures (tests/fixtures/olmo3_olmoe/<name>/): config.json, model.safetensors, ref.safetensors with
  tokens I32 [P+S]; prefill_logits F32 [P, V]; decode_logits F32 [S, V]  (S tokens fed one at a time after P)
  olmo3_a      config shape A (rope_theta + rope_scaling yarn), layer_types S,S,S,F, window 8, F32. P = 300 tokens:
               past the window, past original_max_position_embeddings (256) and past olmo.c's ring (8-1+256 rows)
  olmo3_b      the same weights, config shape B (flat rope_parameters, no attention_factor: 0.1 ln s + 1)
  olmo3_c      shape C (rope_parameters per layer type), irregular layer_types F,S,S,F, GQA, BF16
  olmoe_a      8 experts, top 2, per-expert tensors, F32
  olmoe_fused  olmoe_a's weights as fused gate_up_proj / down_proj tensors (transformers v5 files)
  olmoe_b      norm_topk_prob true, clip_qkv 1.5 (after the QK-norms), BF16
Also writes yarn_table.safetensors: inv_freq and attention factor of the released OLMo-3 YaRN (θ 5e5, factor 8,
L0 8192, hd 128) to check against the addendum's sanity values in the C test.

Run from the repository root:  /usr/bin/python3 tests/ref/make_olmo3_olmoe_fixtures.py
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import write_safetensors  # noqa: E402  (the safetensors writer only; no model code)

OUT = "tests/fixtures/olmo3_olmoe"


# ---- RoPE ----
def yarn_inv_freq(theta, hd, factor, L0, beta_fast=32.0, beta_slow=1.0):
    """Addendum §3, steps 3-4, float32 like transformers."""
    pf = torch.tensor(theta, dtype=torch.float32) ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ext = 1.0 / pf
    itp = 1.0 / (factor * pf)

    def cdim(n):
        return hd * math.log(L0 / (n * 2 * math.pi)) / (2 * math.log(theta))

    low, high = max(math.floor(cdim(beta_fast)), 0), min(math.ceil(cdim(beta_slow)), hd - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(hd // 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
    e = 1 - ramp
    return itp * (1 - e) + ext * e


def plain_inv_freq(theta, hd):
    return 1.0 / (torch.tensor(theta, dtype=torch.float32) ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))


def rotate(x, pos, inv, scale):
    """x [T, heads, hd]; rotate-half; angle = float32(p)·inv in float32; cos/sin in float64 times scale."""
    half = x.shape[-1] // 2
    ang = torch.tensor(pos, dtype=torch.float32)[:, None] * inv[None, :]
    c = (torch.cos(ang.double()) * scale)[:, None, :]
    s = (torch.sin(ang.double()) * scale)[:, None, :]
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * c - b * s, b * c + a * s], -1)


def rms(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def silu(x):
    return x * torch.sigmoid(x)


# ---- the two architectures ----
class Olmo3Ref:
    """OLMo-2 block; per layer: sliding layers plain RoPE + window mask, full layers YaRN + causal mask."""

    def __init__(self, c, w, kinds, rope_full, rope_slide):
        self.c, self.w, self.kinds = c, w, kinds            # kinds[l] in {"sliding_attention", "full_attention"}
        self.rope = {"full_attention": rope_full, "sliding_attention": rope_slide}   # (inv, scale)
        self.K, self.V = {}, {}

    def attend(self, l, q, k, v, pos):
        c = self.c
        H, Hkv = c["num_attention_heads"], c["num_key_value_heads"]
        hd = q.shape[-1]
        self.K[l] = k if l not in self.K else torch.cat([self.K[l], k])
        self.V[l] = v if l not in self.V else torch.cat([self.V[l], v])
        K, V = self.K[l], self.V[l]
        n = K.shape[0]
        W = c["sliding_window"] if self.kinds[l] == "sliding_attention" else None
        allowed = torch.tensor([[j <= pos[i] and (W is None or j > pos[i] - W) for j in range(n)] for i in range(len(pos))])
        out = torch.zeros(len(pos), H, hd, dtype=torch.float64)
        for h in range(H):
            g = h // (H // Hkv)
            sc = (q[:, h] @ K[:, g].T) / math.sqrt(hd)
            out[:, h] = torch.softmax(sc.masked_fill(~allowed, float("-inf")), -1) @ V[:, g]
        return out.reshape(len(pos), H * hd)

    def forward(self, ids, pos0):
        c, w = self.c, self.w
        H, Hkv, eps = c["num_attention_heads"], c["num_key_value_heads"], c["rms_norm_eps"]
        hd = c["hidden_size"] // H
        T = len(ids)
        pos = list(range(pos0, pos0 + T))
        h = w["model.embed_tokens.weight"][ids]
        for l in range(c["num_hidden_layers"]):
            p = f"model.layers.{l}."
            q = rms(h @ w[p + "self_attn.q_proj.weight"].T, w[p + "self_attn.q_norm.weight"], eps)
            k = rms(h @ w[p + "self_attn.k_proj.weight"].T, w[p + "self_attn.k_norm.weight"], eps)
            v = h @ w[p + "self_attn.v_proj.weight"].T
            inv, scale = self.rope[self.kinds[l]]
            q = rotate(q.view(T, H, hd), pos, inv, scale)
            k = rotate(k.view(T, Hkv, hd), pos, inv, scale)
            o = self.attend(l, q, k, v.view(T, Hkv, hd), pos) @ w[p + "self_attn.o_proj.weight"].T
            h = h + rms(o, w[p + "post_attention_layernorm.weight"], eps)
            m = (silu(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
            h = h + rms(m, w[p + "post_feedforward_layernorm.weight"], eps)
        return rms(h, w["model.norm.weight"], eps) @ w["lm_head.weight"].T


class OlmoeRef(Olmo3Ref):
    """Pre-norm block, QK-norm then clip, plain RoPE, MoE MLP."""

    def __init__(self, c, w):
        hd = c["hidden_size"] // c["num_attention_heads"]
        super().__init__(c, w, ["full_attention"] * c["num_hidden_layers"], (plain_inv_freq(c["rope_theta"], hd), 1.0), None)

    def moe(self, l, x):
        c, w = self.c, self.w
        E, k = c["num_experts"], c["num_experts_per_tok"]
        p = f"model.layers.{l}.mlp."
        probs = torch.softmax(x @ w[p + "gate.weight"].T, -1)
        out = torch.zeros_like(x)
        for t in range(x.shape[0]):
            order = sorted(range(E), key=lambda e: (-probs[t, e].item(), e))[:k]   # ties: lower index first
            wts = probs[t, order]
            if c["norm_topk_prob"]:
                wts = wts / wts.sum()
            for e, wt in sorted(zip(order, wts.tolist())):
                g = x[t] @ w[p + f"experts.{e}.gate_proj.weight"].T
                u = x[t] @ w[p + f"experts.{e}.up_proj.weight"].T
                out[t] += wt * ((silu(g) * u) @ w[p + f"experts.{e}.down_proj.weight"].T)
        return out

    def forward(self, ids, pos0):
        c, w = self.c, self.w
        H, Hkv, eps = c["num_attention_heads"], c["num_key_value_heads"], c["rms_norm_eps"]
        hd = c["hidden_size"] // H
        T = len(ids)
        pos = list(range(pos0, pos0 + T))
        inv, scale = self.rope["full_attention"]
        h = w["model.embed_tokens.weight"][ids]
        for l in range(c["num_hidden_layers"]):
            p = f"model.layers.{l}."
            a = rms(h, w[p + "input_layernorm.weight"], eps)
            q = rms(a @ w[p + "self_attn.q_proj.weight"].T, w[p + "self_attn.q_norm.weight"], eps)
            k = rms(a @ w[p + "self_attn.k_proj.weight"].T, w[p + "self_attn.k_norm.weight"], eps)
            v = a @ w[p + "self_attn.v_proj.weight"].T
            if c.get("clip_qkv"):
                cl = c["clip_qkv"]
                q, k, v = q.clamp(-cl, cl), k.clamp(-cl, cl), v.clamp(-cl, cl)
            q = rotate(q.view(T, H, hd), pos, inv, scale)
            k = rotate(k.view(T, Hkv, hd), pos, inv, scale)
            h = h + self.attend(l, q, k, v.view(T, Hkv, hd), pos) @ w[p + "self_attn.o_proj.weight"].T
            h = h + self.moe(l, rms(h, w[p + "post_attention_layernorm.weight"], eps))
        return rms(h, w["model.norm.weight"], eps) @ w["lm_head.weight"].T


# ---- weights and configs ----
def weights(c, gen, moe=False):
    d, L, H, Hkv = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"], c["num_key_value_heads"]
    hd, I, V = d // H, c["intermediate_size"], c["vocab_size"]

    def lin(o, i):
        return torch.randn(o, i, generator=gen, dtype=torch.float64) / math.sqrt(i)

    def nw(n):
        return 1 + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)

    w = {"model.embed_tokens.weight": torch.randn(V, d, generator=gen, dtype=torch.float64),
         "model.norm.weight": nw(d), "lm_head.weight": lin(V, d)}
    for l in range(L):
        p = f"model.layers.{l}."
        w[p + "self_attn.q_proj.weight"] = lin(H * hd, d)
        w[p + "self_attn.k_proj.weight"] = lin(Hkv * hd, d)
        w[p + "self_attn.v_proj.weight"] = lin(Hkv * hd, d)
        w[p + "self_attn.o_proj.weight"] = lin(d, H * hd)
        w[p + "self_attn.q_norm.weight"] = nw(H * hd)
        w[p + "self_attn.k_norm.weight"] = nw(Hkv * hd)
        if moe:
            w[p + "input_layernorm.weight"] = nw(d)
            w[p + "post_attention_layernorm.weight"] = nw(d)
            w[p + "mlp.gate.weight"] = 3 * lin(c["num_experts"], d)    # sharper routing: top-k choices move with x
            for e in range(c["num_experts"]):
                w[p + f"mlp.experts.{e}.gate_proj.weight"] = lin(I, d)
                w[p + f"mlp.experts.{e}.up_proj.weight"] = lin(I, d)
                w[p + f"mlp.experts.{e}.down_proj.weight"] = lin(d, I)
        else:
            w[p + "post_attention_layernorm.weight"] = nw(d)
            w[p + "post_feedforward_layernorm.weight"] = nw(d)
            w[p + "mlp.gate_proj.weight"] = lin(I, d)
            w[p + "mlp.up_proj.weight"] = lin(I, d)
            w[p + "mlp.down_proj.weight"] = lin(d, I)
    return w


def fuse_experts(w, c):
    """Transformers v5 layout (addendum §5): gate_up_proj [E, 2I, d] (gate rows then up rows), down_proj [E, d, I]."""
    out = {k: v for k, v in w.items() if ".mlp.experts." not in k}
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}.mlp.experts."
        E = c["num_experts"]
        out[p + "gate_up_proj"] = torch.stack([torch.cat([w[p + f"{e}.gate_proj.weight"], w[p + f"{e}.up_proj.weight"]]) for e in range(E)])
        out[p + "down_proj"] = torch.stack([w[p + f"{e}.down_proj.weight"] for e in range(E)])
    return out


def base_config(mt, d, L, H, Hkv, I, V):
    return {"architectures": [{"olmo3": "Olmo3ForCausalLM", "olmoe": "OlmoeForCausalLM"}[mt]], "model_type": mt,
            "attention_bias": False, "attention_dropout": 0.0, "hidden_act": "silu", "hidden_size": d,
            "intermediate_size": I, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": Hkv,
            "vocab_size": V, "rms_norm_eps": 1e-6 if mt == "olmo3" else 1e-5, "tie_word_embeddings": False,
            "bos_token_id": None, "eos_token_id": 95, "pad_token_id": 1, "initializer_range": 0.02, "use_cache": True,
            "transformers_version": "4.57.0"}


def write_fixture(name, c, w, dtype, ref, tokens, P, S, stored=None):
    d_ = os.path.join(OUT, name)
    os.makedirs(d_, exist_ok=True)
    for f in os.listdir(d_):
        os.remove(os.path.join(d_, f))
    c = dict(c, torch_dtype={"BF16": "bfloat16"}.get(dtype, "float32"))
    with open(os.path.join(d_, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    st = stored if stored is not None else w
    write_safetensors(os.path.join(d_, "model.safetensors"), {k: (st[k], dtype) for k in sorted(st)})
    pre = ref.forward(tokens[:P], 0)
    dec = torch.cat([ref.forward([tokens[P + i]], P + i) for i in range(S)])
    write_safetensors(os.path.join(d_, "ref.safetensors"), {
        "tokens": (torch.tensor(tokens, dtype=torch.int32), "I32"),
        "prefill_logits": (pre, "F32"), "decode_logits": (dec, "F32")})
    print(f"{name}: {len(st)} tensors, P={P} S={S}, |logits| max {pre.abs().max().item():.3f}")


def bf16(w):
    return {k: v.to(torch.float32).to(torch.bfloat16).to(torch.float64) for k, v in w.items()}


def olmo3_fixtures():
    d, L, H, Hkv, I, V, W = 64, 4, 4, 4, 96, 96, 8
    hd, theta, factor, L0 = d // H, 500000.0, 8.0, 256
    P, S = 300, 6
    yarn = {"rope_type": "yarn", "factor": factor, "original_max_position_embeddings": L0, "beta_fast": 32, "beta_slow": 1,
            "attention_factor": 0.1 * math.log(factor) + 1}
    c = dict(base_config("olmo3", d, L, H, Hkv, I, V), sliding_window=W, max_position_embeddings=int(factor * L0),
             layer_types=["sliding_attention"] * 3 + ["full_attention"])
    kinds = c["layer_types"]
    gen = torch.Generator().manual_seed(301)
    w = weights(c, gen)
    tokens = torch.randint(0, V, (P + S,), generator=gen).tolist()
    full = (yarn_inv_freq(theta, hd, factor, L0), yarn["attention_factor"])
    slide = (plain_inv_freq(theta, hd), 1.0)
    ca = dict(c, rope_theta=theta, rope_scaling=yarn)
    write_fixture("olmo3_a", ca, w, "F32", Olmo3Ref(ca, w, kinds, full, slide), tokens, P, S)
    yb = {k: v for k, v in yarn.items() if k != "attention_factor"}
    cb = dict(c, rope_parameters=dict(yb, rope_theta=theta))
    write_fixture("olmo3_b", cb, w, "F32", Olmo3Ref(cb, w, kinds, full, slide), tokens, P, S)
    # shape C, GQA, irregular pattern, BF16, a different sliding theta
    c = dict(base_config("olmo3", d, L, H, 2, I, V), sliding_window=W, max_position_embeddings=int(factor * L0),
             layer_types=["full_attention", "sliding_attention", "sliding_attention", "full_attention"])
    gen = torch.Generator().manual_seed(302)
    w = bf16(weights(c, gen))
    tokens = torch.randint(0, V, (P + S,), generator=gen).tolist()
    cc = dict(c, rope_parameters={"full_attention": dict(yarn, rope_theta=theta),
                                  "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}})
    write_fixture("olmo3_c", cc, w, "BF16", Olmo3Ref(cc, w, c["layer_types"], full, (plain_inv_freq(10000.0, hd), 1.0)),
                  tokens, P, S)


def olmoe_fixtures():
    d, L, H, Hkv, I, V = 32, 2, 4, 4, 32, 96
    P, S = 9, 4
    c = dict(base_config("olmoe", d, L, H, Hkv, I, V), num_experts=8, num_experts_per_tok=2, norm_topk_prob=False,
             clip_qkv=None, rope_theta=10000.0, rope_scaling=None, max_position_embeddings=4096,
             router_aux_loss_coef=0.01, output_router_logits=False)
    gen = torch.Generator().manual_seed(401)
    w = weights(c, gen, moe=True)
    tokens = torch.randint(0, V, (P + S,), generator=gen).tolist()
    write_fixture("olmoe_a", c, w, "F32", OlmoeRef(c, w), tokens, P, S)
    write_fixture("olmoe_fused", c, w, "F32", OlmoeRef(c, w), tokens, P, S, stored=fuse_experts(w, c))
    c = dict(c, num_key_value_heads=2, norm_topk_prob=True, clip_qkv=1.5, num_experts_per_tok=3)
    gen = torch.Generator().manual_seed(402)
    w = bf16(weights(c, gen, moe=True))
    tokens = torch.randint(0, V, (P + S,), generator=gen).tolist()
    write_fixture("olmoe_b", c, w, "BF16", OlmoeRef(c, w), tokens, P, S)


def yarn_table():
    inv = yarn_inv_freq(500000.0, 128, 8.0, 8192)
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "yarn_table.safetensors"), {
        "inv_freq": (inv.double(), "F32"), "plain_inv_freq": (plain_inv_freq(500000.0, 128).double(), "F32")})


if __name__ == "__main__":
    torch.set_num_threads(1)
    yarn_table()
    olmo3_fixtures()
    olmoe_fixtures()
