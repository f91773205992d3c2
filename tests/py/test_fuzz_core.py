"""The libFuzzer target over the core reader (tests/fuzz/fuzz_core.c) runs
for a bounded time (SNAKESCOPE_FUZZ_SECONDS, default 60) from the committed
seed corpus; any finding (crash, sanitizer report, leak, timeout) fails.

The fuzzer is its own binary (build-fuzz/fuzz_core, clang with ASan and
UBSan), independent of $SNAKESCOPE: it runs in the release pass of
tests/run.sh and is skipped, saying so, in the sanitizer pass."""
import os
import shutil
import subprocess

import pytest

import helpers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECONDS = int(os.environ.get("SNAKESCOPE_FUZZ_SECONDS", "60"))


def test_fuzz_core(tmp_path):
    if "build-san" in os.path.abspath(helpers.SNAKESCOPE):
        pytest.skip("fuzz_core ran in the release pass (it does not use $SNAKESCOPE)")
    if not shutil.which("clang"):
        pytest.skip("clang not installed: bash tests/setup.sh")
    b = subprocess.run(["make", "-s", "fuzz"], cwd=ROOT, capture_output=True, timeout=300)
    assert b.returncode == 0, "make fuzz failed:\n" + b.stderr.decode()[-3000:]
    work = tmp_path / "corpus"
    work.mkdir()
    seeds = os.path.join(ROOT, "tests", "fuzz", "corpus_core")
    p = subprocess.run([os.path.join(ROOT, "build-fuzz", "fuzz_core"),
                        "-max_total_time=%d" % SECONDS, "-timeout=10", "-rss_limit_mb=2048",
                        "-artifact_prefix=%s/" % tmp_path, str(work), seeds],
                       capture_output=True, timeout=SECONDS + 120, cwd=str(tmp_path))
    log = p.stderr.decode("utf-8", "replace")
    found = [f for f in os.listdir(str(tmp_path)) if f.startswith(("crash-", "leak-", "timeout-", "oom-"))]
    assert p.returncode == 0 and not found, \
        "fuzz_core found a problem (%s):\n%s" % (found, log[-6000:])
    assert "Done" in log, log[-3000:]
