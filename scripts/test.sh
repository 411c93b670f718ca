#!/usr/bin/env bash
# Runs every check and test Xiansuo has: formatting, clippy with warnings as errors, and the
# whole test suite on SQLite and on PostgreSQL (127.0.0.1:5432), including the browser tests in
# headless Chromium; then the server, as the tests built it, against its OpenAPI document
# (scripts/schemathesis.sh; SCHEMATHESIS_EXAMPLES, default 10, sets the cases per operation for a
# deeper run).
# Installs Chromium and ChromeDriver with apt-get and the test SMTP server aiosmtpd with pip when
# they are missing, and starts the local PostgreSQL cluster if it is installed but stopped. With
# CI=true, a PostgreSQL, ChromeDriver or aiosmtpd that cannot be reached fails the run instead
# of skipping; schemathesis (pip) that cannot be installed always fails it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_packages+=(chromium-driver)
if ((${#need_packages[@]})) && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need_packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

# The email tests receive mail with a real SMTP server, aiosmtpd (from PyPI).
if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
    echo "installing aiosmtpd"
    python3 -m pip install --quiet aiosmtpd
fi

# Start PostgreSQL if it is installed here but not running.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# The server against its OpenAPI document (scripts/schemathesis.sh says what it checks), on the
# debug binary the tests built, with a fixed number of cases per operation so that it sends the
# same requests on every machine. It counts as one test below.
api_passed=0
api_failed=0
if scripts/schemathesis.sh "${SCHEMATHESIS_EXAMPLES:-10}"; then
    api_passed=1
else
    api_failed=1
    status=1
fi

# One closing line for the whole run: cargo prints a result per test binary, the last of which
# is often a binary without tests.
awk -v ap="$api_passed" -v af="$api_failed" \
    '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "total: %d passed, %d failed\n", p + ap, f + af }' "$log"
exit "$status"
