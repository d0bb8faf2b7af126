#!/usr/bin/env bash
# Install Debian's ffmpeg when it is missing: voice messages (AMR, OGG/Opus, M4A, WebM ...) are
# converted to 16 kHz mono WAV for the optional speech model, and the conversion test needs it.
set -euo pipefail

command -v ffmpeg >/dev/null && exit 0

echo "installing ffmpeg" >&2
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends ffmpeg >&2
