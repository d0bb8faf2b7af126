#!/usr/bin/env bash
# Install Debian's Chromium, its ChromeDriver and a CJK font for the dashboard's browser test,
# when they are missing (no browser download from anywhere else works on the CI machine).
set -euo pipefail

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
# without a CJK font the screenshots show boxes instead of Chinese
fc-list 2>/dev/null | grep -qi -E "wqy|noto.*cjk" || need+=(fonts-wqy-zenhei)
[ ${#need[@]} -eq 0 ] && exit 0

echo "installing ${need[*]}" >&2
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
