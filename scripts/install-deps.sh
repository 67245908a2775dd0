#!/usr/bin/env bash
# Installs every Debian package olmo.c needs to build, test and benchmark.
# Idempotent and quiet when everything is already there (so CI and re-runs are fast and need no network).
set -euo pipefail
PKGS=(
  build-essential pkg-config            # gcc, make
  libjansson-dev                        # JSON (tokenizer.json, config.json, safetensors headers)
  libpcre2-dev                          # regex for tokenizer.json Split patterns (\p{L}, \p{N})
  libutf8proc-dev                       # Unicode normalization (NFC) and categories
  libopenblas-dev libopenblas0-pthread  # fp32 GEMM
  libdnnl-dev                           # oneDNN: bf16 GEMM on AVX512-BF16 / AMX
  libopenmpi-dev openmpi-bin            # data-parallel training (optional at build time)
  zlib1g-dev libzstd-dev                # .gz / .zst JSONL streams
  libyaml-dev                           # OLMo's YAML training configs
  libjq-dev                             # jq filter expressions in the data mixer
  libmicrohttpd-dev                     # olmo serve's HTTP server
  libcld2-dev                           # language identification taggers (Dolma's cld2)
  gnuplot-nox                           # loss-curve PNGs
  clang libclang-rt-14-dev              # libFuzzer targets
  python3 valgrind
  # The main job's corpus (olmo demo): text Debian ships, one Dolma source per package
  bible-kjv bible-kjv-text dict-gcide dict-jargon dict-devil dict-foldoc fortunes perl-doc
)
# Reference tools: PyTorch / NumPy for tests/ref and the PyTorch side of bench/ (only with --ref).
[ "${1:-}" = "--ref" ] && PKGS+=(python3-torch python3-numpy)
# Node.js + npm run Hugging Face `tokenizers` as a test reference; a machine may already have them outside Debian.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
