#!/usr/bin/env bash
# Regenerates the screenshots docs/dashboard.md shows: builds `vaccount`, runs the browser suite
# (tests/browser), which saves every page it visits as target/browser-screenshots/<name>.png,
# then copies each image docs/dashboard.md links as `images/<name>.png` into docs/images/.
# An image the document links but the run did not take is an error. Usage:
#
#   bash scripts/screenshots.sh            # the whole suite, then the copy
#   bash scripts/screenshots.sh --copy     # only the copy, from the last run's screenshots
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)
shots="$target/browser-screenshots"
doc=docs/dashboard.md

if [ "${1:-}" != "--copy" ]; then
    if ! .venv/bin/python -c 'import openpyxl' 2>/dev/null; then
        echo "no .venv with openpyxl: run bash scripts/test.sh once (it installs the Python test tools)" >&2
        exit 1
    fi
    bash scripts/install_browser_tools.sh
    cargo build -p vaccount-cli
    rm -rf "$shots"
    (cd tests/browser && VACCOUNT_BIN="$target/debug/vaccount" npm test --silent)
fi

if [ ! -f "$doc" ]; then
    echo "no $doc: nothing to copy; the run's screenshots are in $shots"
    exit 0
fi
mkdir -p docs/images
missing=0
copied=0
for name in $(grep -o 'images/[a-z0-9-]*\.png' "$doc" | sed 's|^images/||' | sort -u); do
    if [ -f "$shots/$name" ]; then
        cp "$shots/$name" "docs/images/$name"
        copied=$((copied + 1))
    else
        echo "$doc links images/$name, which the run did not take ($shots/$name)" >&2
        missing=$((missing + 1))
    fi
done
echo "copied $copied screenshots into docs/images/"
[ "$missing" -eq 0 ]
