#!/usr/bin/env bash
# Installs the system libraries that Qt (PySide6) needs, when missing, Xvfb and xdotool (the
# scripted first session on a real X server, tests/gui/test_xvfb_session.py; skipped without
# them) and Chromium (the headless browser test of `studio report`; the test is skipped without
# /usr/bin/chromium).
# As root it runs apt-get; otherwise it prints the exact line to run.
set -u
pkgs=(libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
      libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
      libxcb-render-util0 libxcb-image0 xvfb xdotool chromium)
command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages for Qt and the report test: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "apt-get failed; Qt and browser tests may be skipped"; exit 0; }
else
  echo "Qt and the report test need system packages; run: sudo apt-get install -y ${missing[*]}"
fi
exit 0
