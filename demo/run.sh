#!/usr/bin/env bash
# Build snakescope and dump a bundled demo Python program: the README's
# first command.  Installs the build prerequisites on Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in $(grep -v '^#' tools/build-deps) python3; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
		need+=("$pkg")
done
if ((${#need[@]})); then
	echo "installing ${need[*]} ..." >&2
	apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
make -s

# The demo tells us through a pipe when its threads are parked.
tmp=$(mktemp -d)
trap 'kill "${demo:-}" 2>/dev/null; rm -rf "$tmp"' EXIT
mkfifo "$tmp/ready"
SNAKESCOPE_READY_FD=3 python3 demo/demo.py 3>"$tmp/ready" &
demo=$!
read -r -t 30 _ <"$tmp/ready"
echo "\$ build/snakescope dump $demo"
build/snakescope dump "$demo"
