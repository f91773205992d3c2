"""Torn reads: --nonblocking dumps of threads whose stacks change while they
are read must always end with a valid document, a partial stack being cut
where the read failed and marked, never invented, crashed on or hung."""
import json

import pytest

import helpers

INTERPS = {i.id: i for i in helpers.interpreters()}
CHURN_ON = ["pyenv-2.7", "pyenv-3.8", "pyenv-3.10", "pyenv-3.12", "debian-3.11",
            "sid-3.14", "sid-3.15"]


@pytest.mark.parametrize("interp_id", CHURN_ON)
def test_nonblocking_torn_stacks(interp_id, start):
    interp = INTERPS.get(interp_id)
    if interp is None or interp.missing:
        pytest.skip("%s is not available: %s" % (interp_id, helpers.SETUP_HINT))
    t = start(interp, "churn", wait_blocked=False)
    for i in range(40):
        res = helpers.run_snakescope("dump", "--json", "--nonblocking", t.pid,
                                     timeout=30)
        assert not res.crashed and not res.timed_out, res.describe()
        assert res.rc == 0, res.describe()
        doc = json.loads(res.out)
        churners = [th for th in doc["threads"] if len(th["frames"]) > 1 and
                    th["frames"][-1]["function"] in ("_bootstrap", "__bootstrap")]
        assert churners, "no churning thread found\n" + res.describe()
        for th in doc["threads"]:
            assert th["error"] is None or isinstance(th["error"], str)
            for f in th["frames"]:
                # A frame is either fully decoded or not reported at all.
                assert f["function"] and f["file"], th
                assert f["line"] is None or f["line"] >= 0, th
    # The blocking dump of the same target is always complete.
    res = helpers.run_snakescope("dump", "--json", t.pid, timeout=30)
    assert res.rc == 0, res.describe()
    doc = json.loads(res.out)
    assert all(th["error"] is None for th in doc["threads"]), res.out
    assert not helpers.stopped_or_traced(t.pid)
