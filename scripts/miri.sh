#!/usr/bin/env bash
# Runs the tests that exercise slowgrad's `unsafe` code under Miri (nightly toolchain).
# Installs the nightly components it needs when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal --component miri,rust-src
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/miri-build"
# the interpreter's loop nests and kernels (unit tests), and the sample of einsum! patterns
cargo +nightly miri test -p slowgrad-runtime --lib "$@"
if [ -d tests/miri ]; then
  cargo +nightly miri test --test miri "$@"
fi
