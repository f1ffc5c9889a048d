#!/usr/bin/env bash
# Installs what the operator console's browser tests (tests/console) run, when missing: Debian's Chromium
# (`apt-get install chromium`, as root only). The tests drive that system browser through Playwright's Python
# client (pinned in pyproject.toml's dev extra), which speaks to it directly (no ChromeDriver), and name its
# executable when they launch it, so Playwright never downloads a browser of its own (no `playwright install`).
# Idempotent, and quick when the browser is there. CHROMIUM_BIN points at a browser installed elsewhere, as
# for the tests. Exits non-zero, saying what to install, when it cannot install it.
set -euo pipefail

say() { printf 'install-browser: %s\n' "$*" >&2; }

if [[ -n "${CHROMIUM_BIN:-}" ]]; then
    [[ -x "$CHROMIUM_BIN" ]] && exit 0
    say "CHROMIUM_BIN=$CHROMIUM_BIN is not executable: point it at a Chromium binary, or unset it."
    exit 1
fi

have_chromium() {
    command -v chromium >/dev/null 2>&1
}

have_chromium && exit 0

if [[ "$(id -u)" -ne 0 ]]; then
    say "missing: Chromium. Install it (e.g. \`sudo apt-get install -y chromium\`), or point"
    say "CHROMIUM_BIN at a Chromium binary."
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    say "missing: Chromium, and there is no apt-get here: install it with the system's package manager."
    exit 1
fi
say "apt-get install chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
have_chromium || { say "Chromium is still missing after apt-get install chromium"; exit 1; }
