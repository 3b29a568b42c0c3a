#!/bin/sh
# Install Debian packages the project needs, only when missing. Usage: system-deps.sh [--optional] PKG...
# With --optional a failure only warns (make run works without fonts; figures then lack CJK glyphs).
optional=0
[ "$1" = "--optional" ] && { optional=1; shift; }
missing=""
for p in "$@"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "system-deps: apt-get not found; please install:$missing" >&2; [ $optional = 1 ] && exit 0; exit 1; }
SUDO=""
[ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && SUDO="sudo"; }
echo "system-deps: installing$missing"
if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
  exit 0
fi
echo "system-deps: could not install$missing" >&2
[ $optional = 1 ] && exit 0
exit 1
