#!/usr/bin/env python3
"""check_fixtures_with_transformers.py — cross-checks the OLMo-3 / OLMoE fixtures of make_olmo3_olmoe_fixtures.py with
Hugging Face transformers (not installed on the build machine; run this where it is:
    pip install torch transformers safetensors
    python3 tests/ref/check_fixtures_with_transformers.py [tests/fixtures/olmo3_olmoe]

For each fixture it loads the checkpoint with AutoModelForCausalLM (float32, eager attention), runs the same tokens
(the prompt in one call, then one token at a time with the KV cache) and prints a table of the worst relative logit
difference against ref.safetensors (relative to the row's largest |logit|, as tests/test_olmo3_olmoe.c measures).

NOTE on OLMo-3: some transformers versions apply YaRN to the sliding-window layers too (the v5 RoPE refactor,
PR #39847, hands one rotary embedding to every layer; spec addendum §1). Those versions disagree with the reference
on every olmo3 fixture past the first position, while the intended model (transformers 4.57's Olmo3Model with its
`rotary_embs` dict, vLLM, llama.cpp, OLMo-core) matches it. The script checks which behaviour the installed version
has (a sliding layer's cos table must equal plain RoPE) and says so in the table; a mismatch there means the
installed transformers is wrong for OLMo-3, not the fixture.
"""
import json
import math
import os
import sys

import torch

try:
    import transformers
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM
except ImportError as e:  # pragma: no cover
    sys.exit(f"needs transformers and safetensors ({e}); see the docstring")

FIX = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/olmo3_olmoe"
NAMES = ["olmo3_a", "olmo3_b", "olmo3_c", "olmoe_a", "olmoe_fused", "olmoe_b"]


def rel_err(got, want):
    scale = want.abs().max(dim=-1).values.clamp_min(1e-30)
    return ((got - want).abs().max(dim=-1).values / scale).max().item()


def sliding_rope_is_plain(model, cfg):
    """True when a sliding layer sees plain RoPE (cos[p][0] == cos(p), no YaRN attention factor)."""
    if cfg.get("model_type") != "olmo3":
        return None
    inner = model.model
    pos = torch.arange(0, 64)[None, :]
    x = torch.zeros(1, 64, cfg["hidden_size"])
    if hasattr(inner, "rotary_embs"):                      # 4.x: one module per layer type
        cos, _ = inner.rotary_embs["sliding_attention"](x, pos)
    elif hasattr(inner, "rotary_emb"):
        try:
            cos, _ = inner.rotary_emb(x, pos, layer_type="sliding_attention")
        except TypeError:
            cos, _ = inner.rotary_emb(x, pos)              # one table for all layers (the v5 trap)
    else:
        return None
    want = torch.cos(torch.arange(0, 64, dtype=torch.float32))
    return bool(torch.allclose(cos[0, :, 0].float(), want, atol=1e-5))


def check(name):
    d = os.path.join(FIX, name)
    cfg = json.load(open(os.path.join(d, "config.json")))
    ref = load_file(os.path.join(d, "ref.safetensors"))
    tokens = ref["tokens"].long()
    pre, dec = ref["prefill_logits"], ref["decode_logits"]
    P, S = pre.shape[0], dec.shape[0]
    model = AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    plain = sliding_rope_is_plain(model, cfg)
    with torch.no_grad():
        out = model(tokens[None, :P], use_cache=True)
        e_pre = rel_err(out.logits[0].float(), pre)
        past, e_dec = out.past_key_values, 0.0
        for i in range(S):
            o = model(tokens[None, P + i:P + i + 1], past_key_values=past, use_cache=True)
            past = o.past_key_values
            e_dec = max(e_dec, rel_err(o.logits[0].float(), dec[i:i + 1]))
    # bf16 checkpoints: transformers computes in fp32 here on exactly the stored values, so 1e-4 holds for all
    ok = e_pre <= 1e-4 and e_dec <= 1e-4
    return e_pre, e_dec, ok, plain


def main():
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, fixtures in {FIX}")
    print(f"{'fixture':<14} {'prefill err':>12} {'decode err':>12}  {'sliding RoPE':<14} result")
    print("-" * 68)
    bad = 0
    for n in NAMES:
        if not os.path.isdir(os.path.join(FIX, n)):
            print(f"{n:<14} {'-':>12} {'-':>12}  {'-':<14} MISSING")
            bad += 1
            continue
        try:
            e1, e2, ok, plain = check(n)
        except Exception as ex:  # report and go on: one unsupported fixture must not hide the others
            print(f"{n:<14} {'-':>12} {'-':>12}  {'-':<14} ERROR {type(ex).__name__}: {ex}")
            bad += 1
            continue
        srope = "n/a" if plain is None else ("plain (ok)" if plain else "YaRN (WRONG)")
        verdict = "ok" if ok else ("MISMATCH: transformers scales sliding layers" if plain is False else "MISMATCH")
        print(f"{n:<14} {e1:>12.2e} {e2:>12.2e}  {srope:<14} {verdict}")
        bad += not ok
    print("-" * 68)
    print("relative error = max |transformers - reference| / max |reference| per logit row; bound 1e-4")
    print("some transformers versions (v5 RoPE refactor) apply YaRN to sliding layers too: see the docstring")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
