#!/usr/bin/env bash
# Installs what the browser suite (tests/browser) needs, each only when it is missing: Debian's
# Chromium at /usr/bin/chromium, a Korean font (fonts-nanum), and playwright-core at the version
# tests/browser/package-lock.json pins, with `npm ci` into tests/browser/node_modules (again
# when the lock file changes).
# Playwright never downloads a browser here: it drives Debian's. Run by scripts/test.sh and
# scripts/screenshots.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
if [ ! -x /usr/bin/chromium ]; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null
# The dashboard is in Korean: without a Korean font Chromium draws its text as empty boxes in
# the screenshots (docs/dashboard.md).
if ! fc-list :lang=ko 2>/dev/null | grep -q .; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq fonts-nanum >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are needed for tests/browser (Node.js 20 or later)" >&2
    exit 1
fi
stamp=tests/browser/node_modules/.installed-package-lock.json
if [ ! -f tests/browser/node_modules/playwright-core/package.json ] || ! cmp -s tests/browser/package-lock.json "$stamp"; then
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    cp tests/browser/package-lock.json "$stamp"
fi
echo "node $(node --version), playwright-core $(node -p 'require("./tests/browser/node_modules/playwright-core/package.json").version')"
