#!/usr/bin/env bash
# cpu_levels.test.sh — one binary, every kernel path this CPU has (base/cpu.h, issue 8):
#  1. `olmo --version` names the build, the CPU and the kernels, and OLMO_CPU caps what it reports;
#  2. at every OLMO_CPU level up to the CPU's own, the kernel unit tests pass (test_linear, test_attention,
#     test_model, test_quant: each holds its path to the reference within its documented tolerance) and greedy generation
#     on the tiny olmo2_gen fixture gives the PyTorch golden continuation byte for byte;
#  3. an unknown OLMO_CPU value is reported, not silently ignored.
set -u
FIX=tests/fixtures/model/olmo2_gen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1

"$OLMO" --version > "$tmp/v" 2>&1
if grep -q '^olmo [0-9]' "$tmp/v" && grep -q '^build: ' "$tmp/v" && grep -q '^CPU: .*| kernels: ' "$tmp/v" &&
   grep -q 'decode, bf16' "$tmp/v"; then echo "PASS version_names_build_cpu_kernels"; else echo "FAIL version_names_build_cpu_kernels: $(cat "$tmp/v")"; fi
top=$(sed -n 's/^CPU: .*| kernels: \([a-z0-9]*\).*/\1/p' "$tmp/v")
if OLMO_CPU=scalar "$OLMO" --version | grep -q 'kernels: scalar (OLMO_CPU=scalar)' &&
   OLMO_CPU=scalar "$OLMO" --version | grep -q 'decode, bf16/f16/f32 weights *portable C'; then
  echo "PASS version_follows_OLMO_CPU"; else echo "FAIL version_follows_OLMO_CPU: $(OLMO_CPU=scalar "$OLMO" --version)"; fi
if OLMO_CPU=avx9000 "$OLMO" --version 2>&1 >/dev/null | grep -q 'OLMO_CPU=avx9000: unknown level'; then
  echo "PASS unknown_OLMO_CPU_reported"; else echo "FAIL unknown_OLMO_CPU_reported"; fi

tail -n +2 "$FIX/golden.txt" > "$tmp/golden"
prompt=$(head -1 "$FIX/golden.txt" | cut -f1)
for level in scalar avx2 avx512 avx512bf16 amx; do
  for t in test_linear test_attention test_model test_quant; do
    if OLMO_CPU=$level "$OLMO_BUILD/tests/$t" > "$tmp/o" 2>&1 && grep -q ' 0 failed' "$tmp/o"; then
      echo "PASS ${t}_at_$level"
    else
      echo "FAIL ${t}_at_$level: $(grep FAIL "$tmp/o" | head -3)"
    fi
  done
  if OLMO_CPU=$level "$OLMO" generate -m "$FIX" -p "$prompt" -n 12 --temperature 0 > "$tmp/out" 2> "$tmp/err" &&
     cmp -s "$tmp/out" "$tmp/golden"; then echo "PASS generate_golden_at_$level"
  else echo "FAIL generate_golden_at_$level: $(tail -2 "$tmp/err")"; fi
  [ "$level" = "$top" ] && break   # levels above the CPU's are the same as its own
done
