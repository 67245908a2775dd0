#!/usr/bin/env python3
"""train_ref.py — independent PyTorch reference for olmo.c training (src/train/), written from the spec
(shared/spec/training-and-eval.md §2, olmo-model.md §3), not from the C code.

For a tiny model of each block variant (OLMo-2, OLMo-1 with clip_qkv + tied embeddings, llama with GQA) it
computes, in float64 with autograd:
  * the loss of one batch (cross-entropy + z-loss, summed over labelled positions / (B*T)),
  * every parameter gradient of that loss,
  * the parameters after three optimizer steps: each step = gradient of the batch, global-norm clipping
    (torch.nn.utils.clip_grad_norm_), learning rate from OLMo's schedule at x = step, torch.optim.AdamW with the
    recipe's weight-decay groups.
Initial weights are not stored: both sides compute them from the same integer hash (init_value below), so the
fixtures hold only results. Output: tests/fixtures/train_ref_<variant>.bin
  magic "OLMOTRF1", uint32 n_params, uint32 0, float64 ce_sum, z_sum, loss, norm1, norm2, norm3,
  float32 grads[n_params], float32 params_after_3_steps[n_params]   (tensor order = train_model.h views)
Run: /usr/bin/python3 tests/ref/train_ref.py   (PyTorch 1.13)
"""
import math
import os
import struct

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

VARIANTS = {
    # name: config (mirrors struct olmo_config) and recipe
    "olmo2": dict(norm="rms", after=True, qk_norm=True, clip=0.0, tied=False, d=8, H=2, Hkv=1, I=12, V=16, L=2,
                  eps=1e-6, theta=500000.0, zm=1e-3, adam_eps=1e-8, wd=0.1, decay_norm=True, decay_emb=False,
                  warmup_min_lr=0.0, sched="cosine", max_norm=0.5),
    "olmo1": dict(norm="ln_noaffine", after=False, qk_norm=False, clip=0.8, tied=True, d=8, H=2, Hkv=2, I=12,
                  V=16, L=2, eps=1e-5, theta=10000.0, zm=0.0, adam_eps=1e-5, wd=0.1, decay_norm=False,
                  decay_emb=False, warmup_min_lr=None, sched="linear", max_norm=0.5),
    "llama": dict(norm="rms", after=False, qk_norm=False, clip=0.0, tied=False, d=8, H=2, Hkv=1, I=12, V=16, L=2,
                  eps=1e-5, theta=10000.0, zm=0.0, adam_eps=1e-8, wd=0.1, decay_norm=True, decay_emb=True,
                  warmup_min_lr=0.0, sched="cosine", max_norm=100.0),
}
B, T = 2, 7
LR, T_WARMUP, T_MAX, ALPHA_F = 1e-2, 2, 5, 0.1


def init_value(i, salt, scale, offset):
    """float32(offset + scale*(u - 0.5)), u = ((i*2654435761 + salt*40503) mod 2^32) / 2^32 — same in C."""
    h = (i * 2654435761 + salt * 40503) % (1 << 32)
    return np.float32(offset + scale * (h / 4294967296.0 - 0.5))


def build_params(c):
    """[(name, tensor, kind)] in olmo.c's view order; kind: emb, lin, norm."""
    d, hd, kvd, I, V = c["d"], c["d"] // c["H"], c["Hkv"] * (c["d"] // c["H"]), c["I"], c["V"]
    affine = c["norm"] != "ln_noaffine"
    spec = [("model.embed_tokens.weight", (V, d), "emb")]
    for l in range(c["L"]):
        p = f"model.layers.{l}."
        spec += [(p + "self_attn.q_proj.weight", (d, d), "lin"), (p + "self_attn.k_proj.weight", (kvd, d), "lin"),
                 (p + "self_attn.v_proj.weight", (kvd, d), "lin"), (p + "self_attn.o_proj.weight", (d, d), "lin"),
                 (p + "mlp.gate_proj.weight", (I, d), "lin"), (p + "mlp.up_proj.weight", (I, d), "lin"),
                 (p + "mlp.down_proj.weight", (d, I), "lin")]
        if c["qk_norm"]:
            spec += [(p + "self_attn.q_norm.weight", (d,), "norm"), (p + "self_attn.k_norm.weight", (kvd,), "norm")]
        if affine:
            if c["after"]:
                spec += [(p + "post_attention_layernorm.weight", (d,), "norm"),
                         (p + "post_feedforward_layernorm.weight", (d,), "norm")]
            else:
                spec += [(p + "input_layernorm.weight", (d,), "norm"),
                         (p + "post_attention_layernorm.weight", (d,), "norm")]
    if affine:
        spec.append(("model.norm.weight", (d,), "norm"))
    if not c["tied"]:
        spec.append(("lm_head.weight", (V, d), "lin"))
    out, off = [], 0
    for name, shape, kind in spec:
        n = int(np.prod(shape))
        if kind == "norm":
            vals = [init_value(off + i, 7, 0.5, 1.0) for i in range(n)]
        else:
            vals = [init_value(off + i, 3, 0.8, 0.0) for i in range(n)]
        t = torch.tensor(np.array(vals, dtype=np.float32).astype(np.float64).reshape(shape), requires_grad=True)
        out.append((name, t, kind))
        off += n
    return out


def batch(c):
    """inputs, targets [B, T]: the same integer formula in C; targets shifted, last position and two more ignored."""
    ids = [[(b * 131 + t * 17 + 5) * 2654435761 % 4294967296 % c["V"] for t in range(T + 1)] for b in range(B)]
    inp = torch.tensor([r[:T] for r in ids])
    tgt = torch.tensor([r[1:T + 1] for r in ids])
    tgt[:, T - 1] = -100
    tgt[0, 2] = -100
    tgt[1, 4] = -100
    return inp, tgt


def norm(c, x, w):
    if c["norm"] == "rms":
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + c["eps"]) * w
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    y = (x - mu) / torch.sqrt(var + c["eps"])
    return y if w is None else y * w


def rms(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, theta):
    """x [B, T, nh, hd]; rotate-half pairing, tables in float32 as OLMo/HF compute them."""
    hd = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ang = torch.arange(x.shape[1], dtype=torch.float32)[:, None] * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1).double()[None, :, None, :]
    sin = torch.cat([ang.sin(), ang.sin()], -1).double()[None, :, None, :]
    half = hd // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rot * sin


def forward(c, P, inp, tgt):
    g = {name: t for name, t, _ in P}
    d, H, Hkv = c["d"], c["H"], c["Hkv"]
    hd = d // H
    Bq, Tq = inp.shape
    h = g["model.embed_tokens.weight"][inp]
    mask = torch.triu(torch.ones(Tq, Tq, dtype=torch.bool), 1)
    for l in range(c["L"]):
        p = f"model.layers.{l}."
        w1 = g.get(p + ("post_attention_layernorm.weight" if c["after"] else "input_layernorm.weight"))
        w2 = g.get(p + ("post_feedforward_layernorm.weight" if c["after"] else "post_attention_layernorm.weight"))
        ain = h if c["after"] else norm(c, h, w1)
        q = ain @ g[p + "self_attn.q_proj.weight"].T
        k = ain @ g[p + "self_attn.k_proj.weight"].T
        v = ain @ g[p + "self_attn.v_proj.weight"].T
        if c["clip"] > 0:
            q, k, v = (t.clamp(-c["clip"], c["clip"]) for t in (q, k, v))
        if c["qk_norm"]:
            q = rms(q, g[p + "self_attn.q_norm.weight"], c["eps"])
            k = rms(k, g[p + "self_attn.k_norm.weight"], c["eps"])
        q = rope(q.view(Bq, Tq, H, hd), c["theta"]).transpose(1, 2)
        k = rope(k.view(Bq, Tq, Hkv, hd), c["theta"]).transpose(1, 2).repeat_interleave(H // Hkv, dim=1)
        v = v.view(Bq, Tq, Hkv, hd).transpose(1, 2).repeat_interleave(H // Hkv, dim=1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        s = s.masked_fill(mask, float("-inf"))
        y = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(Bq, Tq, d)
        ao = y @ g[p + "self_attn.o_proj.weight"].T
        h = h + (norm(c, ao, w1) if c["after"] else ao)
        m_in = h if c["after"] else norm(c, h, w2)
        act = torch.nn.functional.silu(m_in @ g[p + "mlp.gate_proj.weight"].T) * (m_in @ g[p + "mlp.up_proj.weight"].T)
        fo = act @ g[p + "mlp.down_proj.weight"].T
        h = h + (norm(c, fo, w2) if c["after"] else fo)
    hf = norm(c, h, g.get("model.norm.weight"))
    head = g["model.embed_tokens.weight"] if c["tied"] else g["lm_head.weight"]
    logits = hf @ head.T
    lse = torch.logsumexp(logits, -1)
    lab = tgt != -100
    tsafe = tgt.clamp(min=0)
    ce = (lse - logits.gather(-1, tsafe[..., None])[..., 0])[lab].sum()
    z = (lse ** 2)[lab].sum()
    denom = Bq * Tq   # OLMo's old trainer: B_local * T, ignored positions included
    return ce, z, (ce + c["zm"] * z) / denom


def lr_at(c, x):
    """OLMo schedule (spec §2d) at position x, written independently of the C code."""
    w0 = 0.1 * LR if c["warmup_min_lr"] is None else c["warmup_min_lr"]
    if x < T_WARMUP:
        return w0 + (LR - w0) * min(x, T_WARMUP) / T_WARMUP
    eta_min = ALPHA_F * LR
    if x >= T_MAX:
        return eta_min
    if c["sched"] == "cosine":
        return eta_min + (LR - eta_min) * (1 + math.cos(math.pi * (x - T_WARMUP) / (T_MAX - T_WARMUP))) / 2
    return LR - (LR - eta_min) * (x - T_WARMUP) / (T_MAX - T_WARMUP)


def run(name, c, outdir):
    P = build_params(c)
    inp, tgt = batch(c)
    ce, z, loss = forward(c, P, inp, tgt)
    loss.backward()
    grads = np.concatenate([t.grad.detach().numpy().ravel() for _, t, _ in P]).astype(np.float32)
    for _, t, _ in P:
        t.grad = None
    decay = [t for _, t, k in P if k == "lin" or (k == "norm" and c["decay_norm"]) or (k == "emb" and c["decay_emb"])]
    nodecay = [t for _, t, k in P if not any(t is u for u in decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": c["wd"]}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.95), eps=c["adam_eps"])
    norms = []
    for step in range(1, 4):
        opt.zero_grad()
        _, _, l = forward(c, P, inp, tgt)
        l.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_([t for _, t, _ in P], c["max_norm"])))
        for grp in opt.param_groups:
            grp["lr"] = lr_at(c, step)
        opt.step()
    params = np.concatenate([t.detach().numpy().ravel() for _, t, _ in P]).astype(np.float32)
    path = os.path.join(outdir, f"train_ref_{name}.bin")
    with open(path, "wb") as f:
        f.write(b"OLMOTRF1" + struct.pack("<II", len(grads), 0))
        f.write(struct.pack("<6d", float(ce), float(z), float(loss), *norms))
        f.write(grads.tobytes())
        f.write(params.tobytes())
    print(f"{path}: {len(grads)} params, ce {float(ce):.6f} z {float(z):.6f} loss {float(loss):.6f} "
          f"norms {', '.join(f'{n:.4f}' for n in norms)}")


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    os.makedirs(out, exist_ok=True)
    for name, c in VARIANTS.items():
        run(name, c, out)
