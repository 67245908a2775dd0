#!/usr/bin/env python3
"""check_hf_checkpoint.py DIR — checks that a folder written by `olmo train` has the Hugging Face layout that
transformers' OlmoForCausalLM / Olmo2ForCausalLM / LlamaForCausalLM load: config.json with the keys those config
classes read, and model.safetensors whose tensor names, shapes and dtypes are exactly the ones the architecture
has (names per spec olmo-model.md §4; derived here independently from config.json). Standard library only
(json, struct); when torch is importable the tensors are also read into torch and checked for finite values.
Exit status 0 when everything matches, 1 with a message otherwise."""
import json
import os
import struct
import sys


def expected(cfg):
    mt = cfg["model_type"]
    d, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    H = cfg["num_attention_heads"]
    Hkv = cfg.get("num_key_value_heads") or H
    hd = cfg.get("head_dim") or d // H
    I, V = cfg["intermediate_size"], cfg["vocab_size"]
    t = {"model.embed_tokens.weight": [V, d]}
    for i in range(L):
        p = f"model.layers.{i}."
        t[p + "self_attn.q_proj.weight"] = [H * hd, d]
        t[p + "self_attn.k_proj.weight"] = [Hkv * hd, d]
        t[p + "self_attn.v_proj.weight"] = [Hkv * hd, d]
        t[p + "self_attn.o_proj.weight"] = [d, H * hd]
        t[p + "mlp.gate_proj.weight"] = [I, d]
        t[p + "mlp.up_proj.weight"] = [I, d]
        t[p + "mlp.down_proj.weight"] = [d, I]
        if mt == "olmo2":
            t[p + "self_attn.q_norm.weight"] = [H * hd]
            t[p + "self_attn.k_norm.weight"] = [Hkv * hd]
            t[p + "post_attention_layernorm.weight"] = [d]
            t[p + "post_feedforward_layernorm.weight"] = [d]
        elif mt == "llama":
            t[p + "input_layernorm.weight"] = [d]
            t[p + "post_attention_layernorm.weight"] = [d]
    if mt in ("olmo2", "llama"):
        t["model.norm.weight"] = [d]
    if not cfg.get("tie_word_embeddings", False):
        t["lm_head.weight"] = [V, d]
    return t


def main():
    ck = sys.argv[1]
    cfg = json.load(open(os.path.join(ck, "config.json")))
    mt = cfg.get("model_type")
    arch = {"olmo": "OlmoForCausalLM", "olmo2": "Olmo2ForCausalLM", "llama": "LlamaForCausalLM"}
    if mt not in arch:
        sys.exit(f"config.json: model_type {mt!r} is not olmo / olmo2 / llama")
    if cfg.get("architectures") != [arch[mt]]:
        sys.exit(f"config.json: architectures {cfg.get('architectures')} should be [{arch[mt]!r}]")
    for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
              "max_position_embeddings", "rope_theta"):
        if k not in cfg:
            sys.exit(f"config.json: {k} missing")
    if mt in ("olmo2", "llama") and "rms_norm_eps" not in cfg:
        sys.exit("config.json: rms_norm_eps missing")
    raw = open(os.path.join(ck, "model.safetensors"), "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    want = expected(cfg)
    got = {k: v["shape"] for k, v in header.items()}
    if set(got) != set(want):
        sys.exit(f"tensor names differ: missing {sorted(set(want) - set(got))[:5]}, "
                 f"unexpected {sorted(set(got) - set(want))[:5]}")
    for k, s in want.items():
        if got[k] != s:
            sys.exit(f"{k}: shape {got[k]}, expected {s}")
        if header[k]["dtype"] not in ("F32", "BF16", "F16"):
            sys.exit(f"{k}: dtype {header[k]['dtype']}")
    end = max(v["data_offsets"][1] for v in header.values())
    if 8 + n + end != len(raw):
        sys.exit(f"file is {len(raw)} bytes, header says {8 + n + end}")
    try:
        import torch
    except ImportError:
        print("OK (layout; torch not importable, values not read)")
        return
    for k, v in header.items():
        a, b = v["data_offsets"]
        dt = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}[v["dtype"]]
        x = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=dt).reshape(v["shape"])
        if not torch.isfinite(x.float()).all():
            sys.exit(f"{k}: non-finite values")
    print(f"OK ({len(want)} tensors, {mt})")


if __name__ == "__main__":
    main()
