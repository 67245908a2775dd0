#!/usr/bin/python3
"""train_tiny_model.py — trains a small OLMo-2 on a text file for a minute on the CPU and saves it as a Hugging Face
checkpoint directory (config.json, model.safetensors, byte-level tokenizer.json, tokenizer_config.json with the Tulu
chat template). Used to measure what --quant q8 does to perplexity on a model whose weights have real structure
(random weights are not representative), and as a demo checkpoint for `olmo generate` / `olmo chat`.

    /usr/bin/python3 tests/ref/train_tiny_model.py TEXT_FILE OUT_DIR [steps]

Model: olmo2, d=128, 4 layers, 4 heads, I=384, vocab 272 (256 bytes + 8 merges + <|endoftext|> + padding),
context 128. The forward pass is the spec's (same math as make_model_fixtures.py's reference), in float32 here.
Not part of the test suite (needs PyTorch and a corpus); the output is not committed.
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import make_model_fixtures as mf  # noqa: E402


def rope_tables(T, hd, theta):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cos(ang), torch.sin(ang)


def rms(x, w, eps):
    return w * (x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps))


def forward(w, c, ids):
    B, T = ids.shape
    H, Hkv, d = c["num_attention_heads"], c["num_key_value_heads"], c["hidden_size"]
    hd, eps = d // H, c["rms_norm_eps"]
    cos, sin = rope_tables(T, hd, c["rope_theta"])

    def rope(x):  # [B, T, h, hd]
        a, b = x[..., : hd // 2], x[..., hd // 2:]
        cc, ss = cos[None, :, None, :], sin[None, :, None, :]
        return torch.cat([a * cc - b * ss, b * cc + a * ss], -1)

    mask = torch.triu(torch.full((T, T), float("-inf")), 1)
    h = w["model.embed_tokens.weight"][ids]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        q = rms(h @ w[p + "self_attn.q_proj.weight"].T, w[p + "self_attn.q_norm.weight"], eps)
        k = rms(h @ w[p + "self_attn.k_proj.weight"].T, w[p + "self_attn.k_norm.weight"], eps)
        v = h @ w[p + "self_attn.v_proj.weight"].T
        q, k = rope(q.view(B, T, H, hd)), rope(k.view(B, T, Hkv, hd))
        v = v.view(B, T, Hkv, hd)
        rep = H // Hkv
        k, v = k.repeat_interleave(rep, 2), v.repeat_interleave(rep, 2)
        att = torch.einsum("bthd,bshd->bhts", q, k) / math.sqrt(hd) + mask
        o = torch.einsum("bhts,bshd->bthd", att.softmax(-1), v).reshape(B, T, H * hd)
        h = h + rms(o @ w[p + "self_attn.o_proj.weight"].T, w[p + "post_attention_layernorm.weight"], eps)
        g = h @ w[p + "mlp.gate_proj.weight"].T
        u = h @ w[p + "mlp.up_proj.weight"].T
        m = (torch.nn.functional.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
        h = h + rms(m, w[p + "post_feedforward_layernorm.weight"], eps)
    h = rms(h, w["model.norm.weight"], eps)
    return h @ w["lm_head.weight"].T


def main():
    text_path, out = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    torch.manual_seed(0)
    torch.set_num_threads(1)
    V, eos = 272, 264
    c = mf.make_config("olmo2", 128, 4, 4, 4, 384, V, False)
    c["max_position_embeddings"] = 512
    gen = torch.Generator().manual_seed(0)
    w = {k: (v.float() * (0.5 if "embed" in k else 1.0)).requires_grad_() for k, v in mf.make_weights(c, gen).items()}
    tok, id_bytes, byte_char = mf.byte_tokenizer(V, eos)
    tok["model"]["merges"] = []   # the model is trained on raw bytes: ids 0..255 only
    data = open(text_path, "rb").read()
    split = int(len(data) * 0.9)
    train = torch.tensor(list(data[:split]), dtype=torch.long)   # byte ids 0..255 (merges unused in training)
    opt = torch.optim.AdamW(list(w.values()), lr=3e-3, weight_decay=0.0)
    B, T = 8, 128
    for step in range(steps):
        ix = torch.randint(0, len(train) - T - 1, (B,))
        x = torch.stack([train[i:i + T] for i in ix])
        y = torch.stack([train[i + 1:i + T + 1] for i in ix])
        loss = torch.nn.functional.cross_entropy(forward(w, c, x).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        for g_ in opt.param_groups:
            g_["lr"] = 3e-3 * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        opt.step()
        if step % 25 == 0 or step == steps - 1:
            print(f"step {step} loss {loss.item():.3f}", flush=True)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
    mf.write_safetensors(os.path.join(out, "model.safetensors"), {k: (v.detach(), "F32") for k, v in w.items()})
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": False,
                   "chat_template": "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                                    "{{ '<|user|>\\n' + message['content'] + '\\n' }}{% elif message['role'] == 'assistant' %}"
                                    "{{ '<|assistant|>\\n'  + message['content'] + eos_token }}{% endif %}"
                                    "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}{% endfor %}"}, f)
    with open(os.path.join(out, "heldout.txt"), "wb") as f:
        f.write(data[split:split + 20000])
    print("saved", out)


if __name__ == "__main__":
    main()
