#!/usr/bin/env bash
# The whole test suite: prerequisites, the normal and the sanitizer build,
# the C unit tests and the pytest suite against each binary.  This is the
# README's test command and exactly what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh
jobs=$(nproc)
make -s -j"$jobs"
make -s -j"$jobs" SAN=address,undefined
echo "== C unit tests (release build)"
make -s unit
echo "== C unit tests (ASan+UBSan build)"
make -s SAN=address,undefined unit

echo "== pytest (release build)"
SNAKESCOPE="$PWD/build/snakescope" /usr/bin/python3 -m pytest -q -n "$jobs" tests/py
echo "== pytest (ASan+UBSan build)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	SNAKESCOPE="$PWD/build-san/snakescope" /usr/bin/python3 -m pytest -q -n "$jobs" tests/py
