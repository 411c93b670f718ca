#!/usr/bin/env bash
# Runs each fuzz target of fuzz/ for a number of executions (default 10,000,000), one after
# the other, with the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). A crash
# stops the run and leaves the input in fuzz/artifacts/TARGET/; the corpus grows in
# fuzz/corpus/TARGET/ (neither is committed). Prints each target's executions and time.
#   scripts/fuzz.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
runs="${1:-10000000}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
for target in "${targets[@]}"; do
    started=$(date +%s)
    cargo +nightly fuzz run -O "$target" -- -runs="$runs" -max_len=4096 2>&1 | grep -E "^(Done|==|SUMMARY)|panicked" || true
    echo "$target: $runs runs in $(( $(date +%s) - started )) s"
done
