#!/usr/bin/env bash
# Fuzzes the pattern parser and einsum() end to end (needs cargo-fuzz and a nightly toolchain).
#   scripts/fuzz.sh [seconds per target]      default 1800
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-1800}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in parse einsum; do
  cargo +nightly fuzz run -s none -O "$target" -- -runs=10000000 -max_total_time="$secs" -max_len=256
done
