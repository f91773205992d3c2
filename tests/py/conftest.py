"""pytest wiring of snakescope's suite against the real binary ($SNAKESCOPE,
default build/snakescope).

Interpreters (helpers.discover_interpreters) and scenarios (target scripts in
tests/py/targets/) give every dump test its parameters, ids such as
`pyenv-3.12-threads`, `sid-3.14-dbg-basic`, `pidns-3.12-subinterp`.  A
missing interpreter or a scenario that does not apply is a skip naming why.

Fixtures:
  target  (session scope, indirect parameter "<interp>-<scenario>"): one
          parked target per parameter, shared by every test that uses it;
          started when first needed, killed when the next parameter is set up
          (pytest keeps one instance of a session-scoped parametrised fixture
          at a time) and at the end, whatever happens.
  dumps   (session scope, per target): the three dumps every check reads
          (blocking JSON, text, --nonblocking JSON), each followed at once by
          a look at whether the target is left stopped or traced.
Tests mark `@pytest.mark.scenarios("basic", ...)` to use only some
scenarios.  Under pytest-xdist all tests of one target go to one worker, so
each target is started once.
"""
import atexit
import re
import shutil
import sys
import uuid

import pytest

import helpers

INTERPS = helpers.interpreters()
BY_ID = {i.id: i for i in INTERPS}
TARGET_KEYS = {}
for _i in INTERPS:
    for _s in helpers.SCENARIOS + ["large", "finalizing", "exiting", "locals", "native"]:
        TARGET_KEYS[sys.intern("%s-%s" % (_i.id, _s))] = (_i, _s)

_live_targets = []


def _kill_all():
    for t in list(_live_targets):
        try:
            t.kill()
        except Exception:
            pass
    del _live_targets[:]


atexit.register(_kill_all)


def pytest_configure(config):
    config.addinivalue_line("markers", "scenarios(*names): run only for these target scenarios")
    config.addinivalue_line("markers", "interps(*ids): run only for these interpreters")


def target_params(scenarios, interp_ids=None):
    params = []
    for interp in INTERPS:
        if interp_ids and interp.id not in interp_ids:
            continue
        for sc in scenarios:
            # The very same string object each time: pytest reuses a
            # session-scoped fixture only for an identical (`is`) parameter.
            if helpers.scenario_skip(interp, sc):
                continue  # does not apply to this version: no test at all
            key = sys.intern("%s-%s" % (interp.id, sc))
            reason = interp.missing
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            params.append(pytest.param(key, id=key, marks=marks))
    return params


def interp_params(interp_ids=None):
    out = []
    for interp in INTERPS:
        if interp_ids and interp.id not in interp_ids:
            continue
        marks = [pytest.mark.skip(reason=interp.missing)] if interp.missing else []
        out.append(pytest.param(interp, id=interp.id, marks=marks))
    return out


def pytest_generate_tests(metafunc):
    m = metafunc.definition.get_closest_marker("scenarios")
    scenarios = list(m.args) if m else helpers.SCENARIOS
    m = metafunc.definition.get_closest_marker("interps")
    ids = set(m.args) if m else None
    explicit = set()
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        explicit.update(n.strip() for n in names.split(",")) if isinstance(names, str) \
            else explicit.update(names)
    if "target" in metafunc.fixturenames and "target" not in explicit:
        metafunc.parametrize("target", target_params(scenarios, ids), indirect=True,
                             scope="session")
    elif "interp" in metafunc.fixturenames and "interp" not in explicit:
        metafunc.parametrize("interp", interp_params(ids))


class Workdirs:
    """Where target scripts are copied to (per interpreter kind) and logs go."""

    def __init__(self, tmp_path_factory):
        self.host = helpers.copy_targets(str(tmp_path_factory.mktemp("targets")))
        self.logs = str(tmp_path_factory.mktemp("target-logs"))
        self._chroot = None

    def for_interp(self, interp):
        if interp.kind != "chroot":
            return self.host
        if self._chroot is None:
            inside = "/tmp/snakescope-tests/%s" % uuid.uuid4().hex[:12]
            helpers.copy_targets(interp.root + inside)
            self._chroot = (interp.root, inside)
        return self._chroot[1]

    def cleanup(self):
        if self._chroot:
            shutil.rmtree(self._chroot[0] + self._chroot[1], ignore_errors=True)


@pytest.fixture(scope="session")
def workdirs(tmp_path_factory):
    w = Workdirs(tmp_path_factory)
    yield w
    _kill_all()
    w.cleanup()


@pytest.fixture(scope="session")
def snakescope_bin():
    why = helpers.snakescope_missing()
    if why:
        pytest.fail(why, pytrace=False)
    return helpers.SNAKESCOPE


def start_target(interp, scenario, workdirs, script=None, wait_blocked=True, **kw):
    """Start a target and wait until it is parked; failures fail the test,
    a target that says its scenario does not apply skips it."""
    t = helpers.Target(interp, scenario, workdirs.for_interp(interp), workdirs.logs)
    _live_targets.append(t)
    try:
        t.start(script=script, **kw)
        if kw.get("wait", True) and wait_blocked:
            t.load_truth()
            t.wait_blocked()
    except helpers.TargetSkipped as e:
        stop_target(t)
        pytest.skip(str(e))
    except helpers.TargetFailed as e:
        stop_target(t)
        pytest.fail(str(e), pytrace=False)
    except BaseException:
        stop_target(t)
        raise
    return t


def stop_target(t):
    try:
        t.kill()
    finally:
        if t in _live_targets:
            _live_targets.remove(t)


@pytest.fixture(scope="session")
def target(request, workdirs, snakescope_bin):
    interp, scenario = TARGET_KEYS[request.param]
    t = start_target(interp, scenario, workdirs)
    yield t
    stop_target(t)


@pytest.fixture(scope="session")
def dumps(target):
    out = {}
    for name, args in (("json", ("dump", "--json")),
                       ("text", ("dump",)),
                       ("nonblocking", ("dump", "--json", "--nonblocking"))):
        res = helpers.run_snakescope(*(args + (target.pid,)))
        res.left_stopped = helpers.stopped_or_traced(target.pid)
        out[name] = res
    return out


@pytest.fixture
def start(workdirs, snakescope_bin):
    """start(interp, scenario, ...) -> a started Target, killed after the test."""
    started = []

    def _start(interp, scenario, **kw):
        t = start_target(interp, scenario, workdirs, **kw)
        started.append(t)
        return t

    yield _start
    for t in started:
        stop_target(t)


# ---- pytest-xdist: every test of one target on the same worker ------------

_PARAM_RE = re.compile(r"\[([^\]]*)\]$")


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class TargetScheduling(LoadScopeScheduling):
        """Groups tests by parameter id (hence by target), not by module."""

        def _split_scope(self, nodeid):
            m = _PARAM_RE.search(nodeid)
            return m.group(1) if m and m.group(1) in TARGET_KEYS else nodeid

    return TargetScheduling(config, log)
