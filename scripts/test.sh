#!/usr/bin/env bash
# Runs every test of vaccount. Installs what it needs (idempotently), checks the formatting and
# clippy's lints (warnings fail), runs cfn-lint, checks
# docs/openapi.yaml against a running `vaccount serve`, starts its own moto_server on a free
# 127.0.0.1 port, runs the whole workspace under cargo-nextest, and stops the server by PID
# on the way out, pass or fail. Then the browser suite (tests/browser, headless Chromium), and
# a search of every `serve` log of the run for the personal data the tests sent (tests/pii.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv="$root/.venv"
# Cargo's target dir, absolute (CARGO_TARGET_DIR may be relative to the repository).
target=$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)
logs="$root/target/test-logs"
mkdir -p "$logs"

step() { printf '\n== %s\n' "$*"; }

step "python tools (moto, cfn-lint, openapi-core) in .venv"
if ! "$venv/bin/python" -c 'import moto.server, cfnlint, openapi_core, openpyxl' 2>/dev/null \
    || ! cmp -s scripts/requirements-test.txt "$venv/.requirements"; then
    python3 -m venv "$venv" 2>/dev/null || {
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    }
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
    cp scripts/requirements-test.txt "$venv/.requirements"
fi

step "chromium and playwright-core (tests/browser)"
bash scripts/install_browser_tools.sh

step "cargo-nextest"
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install --locked cargo-nextest
fi

step "cargo fmt --check"
cargo fmt --all --check
echo "formatted as rustfmt.toml says"

step "cargo clippy --workspace --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cfn-lint template.yaml"
"$venv/bin/cfn-lint" template.yaml
echo "template.yaml: clean"

step "docs/openapi.yaml against a running server"
cargo build -p vaccount-cli
"$venv/bin/python" scripts/check_openapi.py "${CARGO_TARGET_DIR:-target}/debug/vaccount"

step "moto_server"
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" scripts/moto_server.py "$port" >"$logs/moto.log" 2>&1 &
moto_pid=$!
stop_moto() {
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
}
trap stop_moto EXIT
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$moto_pid" 2>/dev/null; then cat "$logs/moto.log"; echo "moto_server died" >&2; exit 1; fi
    sleep 0.2
done
echo "moto_server pid $moto_pid on 127.0.0.1:$port"
export VACCOUNT_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"

# One moto serves every test one request at a time; with 200 concurrent issues queued behind
# each other and the property test busy on the other core, a transaction was seen to wait over
# 20 s in its queue, far past the 3 s an event's transaction gets against DynamoDB
# (docs/decisions.md, 21). The tests that wait out the feed's horizon take this much longer.
export VACCOUNT_EVENT_COMMIT_WINDOW=60s

# The black-box suites and the browser suite write every `serve` log here (tests/support.rs,
# tests/browser/lib/server.mjs); the last step reads this run's.
rm -rf "$target/test-logs/serve"

step "cargo nextest run --workspace"
cargo nextest run --workspace --no-fail-fast

step "browser suite (tests/browser: node --test, headless Chromium)"
(cd tests/browser && VACCOUNT_BIN="$target/debug/vaccount" npm test --silent)

step "no personal data in the serve logs of this run (tests/pii.txt)"
"$venv/bin/python" scripts/check_logs_pii.py "$target/test-logs/serve"
