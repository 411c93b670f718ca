#!/usr/bin/env bash
# Runs each fuzz target of fuzz/ for a number of executions (default 10,000,000), one after
# the other, on one core, with the nightly toolchain and cargo-fuzz (`cargo install
# cargo-fuzz`). The import targets start from inputs scripts/fuzz-seeds.py writes. A crash
# stops the run and leaves the input in fuzz/artifacts/TARGET/; the corpus grows in
# fuzz/corpus/TARGET/, the whole output in fuzz/artifacts/TARGET.log (none is committed). Prints each target's executions, time and
# executions per second. FUZZ_SECONDS, when set, also ends each target after that many seconds.
# FUZZ_SANITIZER picks cargo-fuzz's sanitizer (default address; none runs several times faster
# and still catches every panic, but not the memory errors of C code that the address
# sanitizer finds).
#   scripts/fuzz.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/fuzz-seeds.py
cd fuzz
runs="${1:-10000000}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
for target in "${targets[@]}"; do
    # A workbook needs room for its ZIP and XML; a header row is short.
    case "$target" in
        xlsx) max_len=16384 ;;
        headers) max_len=1024 ;;
        *) max_len=4096 ;;
    esac
    limit=()
    if [[ -n "${FUZZ_SECONDS:-}" ]]; then
        limit=(-max_total_time="$FUZZ_SECONDS")
    fi
    mkdir -p "artifacts/$target"
    started=$(date +%s)
    cargo +nightly fuzz run -O -s "${FUZZ_SANITIZER:-address}" "$target" "corpus/$target" -- -runs="$runs" -max_len="$max_len" \
        -print_final_stats=1 "${limit[@]}" 2>&1 | tee "artifacts/$target.log" |
        grep -E "^(Done|==|SUMMARY)|panicked|Test unit written|number_of_executed_units|average_exec_per_sec" ||
        true
    echo "$target: $(( $(date +%s) - started )) s"
done
