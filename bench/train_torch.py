#!/usr/bin/env python3
"""train_torch.py — the peer for bench/bench_train.c: the same OLMo-2 model, data, loss and optimizer in PyTorch on
the CPU (Debian python3-torch 1.13; its matrix products go to whatever libblas.so.3 is selected — make it OpenBLAS).

Model: OLMo-2 block (QK-norm over the whole q/k, RoPE θ 5e5, norm after attention and MLP inside the residual,
SwiGLU), d_model 512, 8 layers, 8 heads, hidden 1536, vocab 16384, untied; batch 8 × 512 in fp32 (or bf16
autocast with --bf16); loss = CE + 1e-5·lse² summed / (B·T); clip 1.0; AdamW(β 0.9/0.95, eps 1e-8, wd 0.1, no decay
on the embedding); same cosine schedule and the same tinyshakespeare byte batches as bench_train.

  /usr/bin/python3 bench/train_torch.py [--steps N] [--threads 2] [--bf16] [--layers L]
Prints one line per step and "torch: tokens/s X (mean), Y (best step)" over steps 2..N.
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(s, d, H, ff, eps):
        super().__init__()
        s.H, s.hd, s.eps = H, d // H, eps
        s.att_proj = nn.Linear(d, 3 * d, bias=False)
        s.attn_out = nn.Linear(d, d, bias=False)
        s.ff_proj = nn.Linear(d, 2 * ff, bias=False)
        s.ff_out = nn.Linear(ff, d, bias=False)
        s.q_norm, s.k_norm = nn.Parameter(torch.ones(d)), nn.Parameter(torch.ones(d))
        s.attn_norm, s.ff_norm = nn.Parameter(torch.ones(d)), nn.Parameter(torch.ones(d))

    def rms(s, x, w):
        return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + s.eps).to(x.dtype) * w

    def forward(s, x, cos, sin, mask):
        B, T, d = x.shape
        q, k, v = s.att_proj(x).split(d, -1)
        q, k = s.rms(q, s.q_norm), s.rms(k, s.k_norm)
        q, k, v = (t.view(B, T, s.H, s.hd).transpose(1, 2) for t in (q, k, v))
        half = s.hd // 2
        q = q * cos + torch.cat([-q[..., half:], q[..., :half]], -1) * sin
        k = k * cos + torch.cat([-k[..., half:], k[..., :half]], -1) * sin
        a = (q @ k.transpose(-1, -2)) / math.sqrt(s.hd) + mask
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        x = x + s.rms(s.attn_out(y), s.attn_norm)
        u, g = s.ff_proj(x).chunk(2, -1)
        return x + s.rms(s.ff_out(F.silu(g) * u), s.ff_norm)


class Model(nn.Module):
    def __init__(s, V, d, L, H, ff, T, eps=1e-6, theta=500000.0):
        super().__init__()
        s.wte = nn.Embedding(V, d)
        s.blocks = nn.ModuleList(Block(d, H, ff, eps) for _ in range(L))
        s.ln_f = nn.Parameter(torch.ones(d))
        s.head = nn.Linear(d, V, bias=False)
        hd = d // H
        inv = 1.0 / (theta ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.arange(T).float()[:, None] * inv[None]
        s.register_buffer("cos", torch.cat([ang.cos(), ang.cos()], -1))
        s.register_buffer("sin", torch.cat([ang.sin(), ang.sin()], -1))
        s.register_buffer("mask", torch.full((T, T), float("-inf")).triu(1))
        for p in s.parameters():
            if p.dim() == 2:
                nn.init.trunc_normal_(p, std=0.02, a=-0.06, b=0.06)

    def forward(s, ids):
        x = s.wte(ids)
        for b in s.blocks:
            x = b(x, s.cos, s.sin, s.mask)
        x = x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6).to(x.dtype) * s.ln_f
        return s.head(x).float()


def lr_at(step, lr=3e-3, warm=5, tmax=1000, alpha=0.1):
    if step < warm:
        return lr * step / warm
    return alpha * lr + (lr - alpha * lr) * (1 + math.cos(math.pi * (step - warm) / (tmax - warm))) / 2


def batch(step, B, T, text):
    rows = []
    for b in range(B):
        off = ((step * B + b) * 7919 * T) % (len(text) - T - 1)
        rows.append(list(text[off:off + T + 1]))
    t = torch.tensor(rows)
    tgt = t[:, 1:].clone()
    tgt[:, T - 1] = -100
    return t[:, :T], tgt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--bf16", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(6198)
    B, T, V = 8, 512, 16384
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "..", "shared", "data", "corpora", "tinyshakespeare.txt")
    text = open(path, "rb").read() if os.path.exists(path) else bytes(range(256)) * 4096
    m = Model(V, 512, a.layers, 8, 1536, T)
    decay = [p for n, p in m.named_parameters() if n != "wte.weight"]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": [m.wte.weight], "weight_decay": 0.0}], lr=3e-3, betas=(0.9, 0.95), eps=1e-8)
    total, timed, best = 0.0, 0, 1e30
    for step in range(1, a.steps + 1):
        inp, tgt = batch(step, B, T, text)
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            logits = m(inp)
        lse = torch.logsumexp(logits, -1)
        lab = tgt != -100
        ce = F.cross_entropy(logits.view(-1, V), tgt.view(-1), ignore_index=-100, reduction="sum")
        loss = (ce + 1e-5 * (lse[lab] ** 2).sum()) / (B * T)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.step()
        dt = time.perf_counter() - t0
        if step > 1:
            total += dt
            timed += 1
            best = min(best, dt)
        print(f"  torch step {step}: loss {float(ce) / int(lab.sum()):.4f}  {dt:.2f} s", flush=True)
    print(f"torch{' bf16-autocast' if a.bf16 else ''}: tokens/s {B * T * timed / total:.1f} (mean), "
          f"{B * T / best:.1f} (best step)  ({a.threads} threads, {total / timed:.3f} s/step)")


if __name__ == "__main__":
    main()
