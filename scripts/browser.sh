#!/usr/bin/env bash
# A real browser for the browser tests: Debian's chromium and chromium-driver (same version),
# installed with apt when missing.
#
#   scripts/browser.sh --install    install them if missing (needs root or sudo), print nothing else
#   scripts/browser.sh --driver     print the path of chromedriver
set -euo pipefail
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  ($sudo apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1) ||
    ($sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1)
fi
case "${1:-}" in
  --install) exit 0 ;;
  --driver) command -v chromedriver ;;
  *) echo "usage: $0 --install | --driver" >&2; exit 2 ;;
esac
