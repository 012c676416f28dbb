#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; its own browser download is never used).
# Idempotent; needs root (CI runs as root). Prints nothing when Chromium is already there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium
