"""The docker backend: same results as the process backend, and hostile code contained.

Hostile submissions do their probing inside ``conv_forward_naive`` and report what
happened by raising ``RuntimeError("PROBE {json}")``: the harness turns that into the
forward checks' message ("conv_forward_naive raised RuntimeError: PROBE {...}"), which
is exactly the channel a student has. After every grading the test checks that the
run's container is gone (by its run label, so concurrent gradings elsewhere on the
engine do not matter).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import textwrap
from pathlib import Path

import pytest

from grader.grading.config import GradingConfig, Limits, TimingSettings
from grader.grading.grade import grade_submission
from grader.grading.result import FailureKind, GradeResult
from grader.sandbox.docker import LABEL, RUN_LABEL, DockerSandbox, sweep_containers
from grader.sandbox.process import ProcessSandbox
from grader.sandbox.placement import Placement

pytestmark = pytest.mark.docker

MiB = 1 << 20
SEED = 4242


@pytest.fixture(scope="module")
def sandbox(docker_client) -> DockerSandbox:
    box = DockerSandbox()
    box.ready()  # build or find the image once, outside any test's timing
    return box


@pytest.fixture(scope="module")
def hostile_config() -> GradingConfig:
    """Quick: one hidden case, no timing phase, a small memory limit, 1 s per call."""
    return GradingConfig(
        hidden_cases=1,
        timing=TimingSettings(enabled=False),
        limits=Limits(memory_bytes=256 * MiB, call_allowance_s=1.0, call_time_factor=1.0,
                      import_timeout_s=15, deadline_s=120),
    )


def assert_no_container_left(client, run_id: str) -> None:
    assert run_id, "the sandbox recorded no run id"
    left = client.containers.list(all=True, filters={"label": [f"{LABEL}=1", f"{RUN_LABEL}={run_id}"]})
    assert left == [], f"container(s) of run {run_id} left behind: {[c.name for c in left]}"


def grade_docker(path: Path, sandbox: DockerSandbox, config: GradingConfig, docker_client) -> GradeResult:
    result = grade_submission(path, sandbox, config, seed=SEED)
    assert_no_container_left(docker_client, sandbox.last_run_id)
    return result


def hostile_submission(tmp_path: Path, probe: str, name: str = "hostile") -> Path:
    """A submission whose forward runs ``probe`` (filling the dict ``report``) and raises it."""
    source = (
        "import json, os, socket, sys, time\n"
        "import numpy as np\n\n\n"
        "def conv_forward_naive(x, w, b, conv_param):\n"
        "    report = {}\n"
        + textwrap.indent(textwrap.dedent(probe).strip("\n"), "    ") + "\n"
        "    raise RuntimeError('PROBE ' + json.dumps(report, sort_keys=True))\n\n\n"
        "def conv_backward_naive(dout, cache):\n"
        "    x, w, b, conv_param = cache\n"
        "    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)\n"
    )
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return path


def forward_checks(result: GradeResult):
    checks = [c for c in result.checks if c.call == "forward"]
    assert checks, [c.id for c in result.checks]
    return checks


def probe_report(result: GradeResult) -> dict:
    assert result.gradable, result.failure
    message = forward_checks(result)[0].message
    found = re.search(r"PROBE (\{[^\n]*\})", message)
    assert found, message
    return json.loads(found.group(1))


# ---------------------------------------------------------------- same results as process


@pytest.mark.parametrize("example", [
    pytest.param("fast_strided", id="fast_strided"),
    pytest.param("bug_pad_slice", id="bug_pad_slice"),
    pytest.param("unfinished_none", id="unfinished_none"),
])
def test_docker_and_process_give_identical_checks(example, examples_dir, quick_config, sandbox, docker_client):
    path = examples_dir / f"{example}.py"
    by_process = grade_submission(path, ProcessSandbox(), quick_config, seed=SEED)
    by_docker = grade_docker(path, sandbox, quick_config, docker_client)

    def checks(result: GradeResult):
        return [(c.id, c.status.value, c.score, c.message) for c in result.checks]

    assert by_docker.gradable and by_process.gradable
    assert checks(by_docker) == checks(by_process)
    assert (by_docker.score, by_docker.max_score) == (by_process.score, by_process.max_score)
    assert by_docker.failure == by_process.failure
    assert by_docker.submission == by_process.submission
    assert [(t.call, t.measured) for t in by_docker.timing] == [(t.call, t.measured) for t in by_process.timing]
    assert by_docker.environment.sandbox == "docker"


# ---------------------------------------------------------------- the container itself


ROOT_PROBE = r"""
import json, os, resource
report = {}
for name, path in (('root', '/probe'), ('opt', '/opt/probe'), ('submission', '/submission/probe'), ('tmp', '/tmp/probe')):
    try:
        open(path, 'w').close()
        report[name] = 'written'
    except OSError as exc:
        report[name] = os.strerror(exc.errno)
status = dict(line.split(':', 1) for line in open('/proc/self/status'))
report['cap_eff'] = int(status['CapEff'], 16)
report['cap_bnd'] = int(status['CapBnd'], 16)
report['no_new_privs'] = int(status['NoNewPrivs'])
report['net'] = sorted(os.listdir('/sys/class/net'))
report['cpus'] = sorted(os.sched_getaffinity(0))
tmp, shm = os.statvfs('/tmp'), os.statvfs('/dev/shm')
report['tmp_bytes'], report['shm_bytes'] = tmp.f_blocks * tmp.f_frsize, shm.f_blocks * shm.f_frsize
report['limits'] = {n: resource.getrlimit(getattr(resource, 'RLIMIT_' + n.upper())) for n in ('core', 'fsize', 'nofile')}
report['job_env'] = 'CONVGRADE_JOB' in os.environ
print(json.dumps(report))
"""
# CHOWN 0, DAC_READ_SEARCH 2, KILL 5, SETGID 6, SETUID 7, SYS_PTRACE 19 (linux/capability.h)
HARNESS_CAPS = (1 << 0) | (1 << 2) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 19)


def test_container_is_hardened_even_for_root(tmp_path, sandbox, hostile_config, docker_client):
    """The container config the backend uses, with a root probe in place of the harness."""
    from grader.sandbox.base import SandboxJob
    from grader.sandbox.docker import CAPABILITIES, PIDS_LIMIT, container_memory_bytes

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "student.py").write_text("x = 1\n")
    job = SandboxJob(submission_root=tmp_path / "sub", entry="student.py",
                     harness_config=hostile_config.harness_job(SEED), deadline_s=60,
                     placement=Placement(cpu=0))
    client, image, _ = sandbox.ready()
    run_id = "hardening" + format(id(job) % 10**6, "06d")
    config = sandbox.container_config(job, image, run_id)
    config["command"] = ["python3", "-c", ROOT_PROBE]
    container = client.containers.create(**config)
    try:
        host = container.attrs["HostConfig"]
        container.start()
        assert container.wait(timeout=60)["StatusCode"] == 0, container.logs()
        report = json.loads(container.logs(stdout=True, stderr=False))
    finally:
        container.remove(force=True)
    limits = hostile_config.limits
    memory = container_memory_bytes(hostile_config.harness_job(SEED))
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True and host["Init"] is True
    assert host["CapDrop"] == ["ALL"] and sorted(host["CapAdd"]) == sorted(CAPABILITIES)
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["PidsLimit"] == PIDS_LIMIT
    assert host["Memory"] == host["MemorySwap"] == memory
    assert host["CpusetCpus"] == "0"

    assert report["root"] == report["opt"] == report["submission"] == "Read-only file system", report
    assert report["tmp"] == "written"
    assert report["cap_eff"] == report["cap_bnd"] == HARNESS_CAPS, report
    assert report["no_new_privs"] == 1
    assert report["net"] == ["lo"]
    assert report["cpus"] == [0]
    assert report["tmp_bytes"] == limits.scratch_bytes
    assert report["shm_bytes"] <= 64 * 1024
    assert report["limits"]["core"] == [0, 0]
    assert report["limits"]["fsize"] == [limits.scratch_bytes] * 2
    assert report["job_env"] is True  # root (the harness) gets it; the worker test shows the student does not


# ---------------------------------------------------------------- hostile code


@pytest.fixture
def listeners(docker_client):
    """TCP listeners on the host: 127.0.0.1 and the docker bridge's gateway (reachable
    from any container on the default network), so a refused connection proves isolation."""
    targets = {}
    sockets = []
    gateway = None
    try:  # the gateway is often not recorded: then it is the subnet's first address
        config = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]
        gateway = config.get("Gateway") or str(ipaddress.ip_network(config["Subnet"])[1])
    except Exception:  # no default bridge on this engine: loopback and the outside only
        pass
    for name, host in (("loopback", "127.0.0.1"), ("bridge_gateway", gateway)):
        if host is None:
            continue
        listener = socket.socket()
        try:
            listener.bind((host, 0))
        except OSError:  # not an address of this host (a remote engine)
            listener.close()
            continue
        listener.listen(8)
        sockets.append(listener)
        targets[name] = [host, listener.getsockname()[1]]
        socket.create_connection(tuple(targets[name]), timeout=2).close()  # reachable from here
    targets["outside"] = ["1.1.1.1", 53]
    yield targets
    for listener in sockets:
        listener.close()


def test_network_is_unreachable(tmp_path, listeners, sandbox, hostile_config, docker_client):
    probe = f"""
    for name, (host, port) in {listeners!r}.items():
        try:
            socket.create_connection((host, port), timeout=2).close()
            report[name] = 'connected'
        except OSError as exc:
            report[name] = type(exc).__name__
    """
    report = probe_report(grade_docker(hostile_submission(tmp_path, probe), sandbox, hostile_config, docker_client))
    assert set(report) == set(listeners)
    assert "connected" not in report.values(), report


def test_writes_outside_scratch_fail_and_secrets_stay_hidden(tmp_path, sandbox, hostile_config, docker_client):
    probe = """
    for name, path in (('root', '/probe'), ('opt', '/opt/probe'), ('submission', '/submission/probe'),
                       ('app', '/opt/convgrade/app/probe'), ('dev_shm', '/dev/shm/probe'),
                       ('home', os.path.join(os.environ['HOME'], 'probe'))):
        try:
            with open(path, 'w') as f:
                f.write('x')
            report[name] = 'written'
        except OSError as exc:
            report[name] = type(exc).__name__
    for name, path in (('pid1_environ', '/proc/1/environ'), ('harness', '/opt/convgrade/app/grader/harness/run.py')):
        try:
            report[name] = 'read %d bytes' % len(open(path, 'rb').read())
        except OSError as exc:
            report[name] = type(exc).__name__
    report['job_in_env'] = 'CONVGRADE_JOB' in os.environ
    report['uid'] = os.getuid()
    report['cap_eff'] = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0]
    """
    report = probe_report(grade_docker(hostile_submission(tmp_path, probe), sandbox, hostile_config, docker_client))
    for name in ("root", "opt", "submission", "app", "dev_shm"):
        assert report[name] != "written", report
    assert report["home"] == "written", report  # its own scratch home works
    assert report["pid1_environ"] == "PermissionError", report
    assert report["harness"] == "PermissionError", report
    assert report["job_in_env"] is False
    assert report["uid"] >= 100_000
    assert int(report["cap_eff"], 16) == 0, report


def test_fork_bomb_is_bounded(tmp_path, sandbox, hostile_config, docker_client):
    probe = """
    forks, error, stop = 0, '', time.monotonic() + 3
    try:
        while time.monotonic() < stop and forks < 500:
            if os.fork() == 0:
                while True:  # every child keeps bombing
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(0.01)
            forks += 1
    except OSError as exc:
        error = type(exc).__name__
    report['forks'], report['error'] = forks, error
    import threading
    try:
        threading.Thread(target=time.sleep, args=(0.1,)).start()
        report['thread'] = 'started'
    except RuntimeError as exc:
        report['thread'] = 'refused'
    """
    result = grade_docker(hostile_submission(tmp_path, probe), sandbox, hostile_config, docker_client)
    report = probe_report(result)
    assert report == {"forks": 0, "error": "BlockingIOError", "thread": "refused"}, report
    # The grading went on: backward was called and judged (wrong, all zeros).
    assert any(c.call == "backward" and "dx" in c.message for c in result.checks)


@pytest.mark.parametrize("allocation", [
    pytest.param("np.ones((64 << 30) // 8)", id="one-64GiB-array"),
    pytest.param("[np.ones((64 << 20) // 8) for _ in range(1000)]", id="64MiB-chunks-until-it-breaks"),
])
def test_memory_far_beyond_the_limit_is_a_student_failure(allocation, tmp_path, sandbox, hostile_config,
                                                           docker_client):
    path = hostile_submission(tmp_path, f"hog = {allocation}")
    # Faulting in ~1.3 GiB (the limit + the address-space overhead) takes more than 1 s.
    config = hostile_config.model_copy(update={"limits": hostile_config.limits.model_copy(
        update={"call_allowance_s": 20.0})})
    result = grade_docker(path, sandbox, config, docker_client)
    assert result.gradable and result.failure is None, result.failure
    for check in forward_checks(result):
        assert check.status.value == "failed"
        assert "memory limit of 0.25 GiB exceeded in conv_forward_naive" in check.message, check.message


def test_sleeping_past_the_call_limit_fails_that_check_only(tmp_path, sandbox, hostile_config, docker_client):
    result = grade_docker(hostile_submission(tmp_path, "time.sleep(3600)"), sandbox, hostile_config, docker_client)
    assert result.gradable, result.failure
    for check in forward_checks(result):
        assert check.status.value == "failed"
        assert "conv_forward_naive did not finish within" in check.message and "(time limit)" in check.message
    # Backward still ran on the template's cache and was judged on its own.
    assert any(c.call == "backward" and "dx" in c.message for c in result.checks)
    assert result.wall_time_s < 60


def test_a_sleeping_submission_runs_out_of_total_time_and_is_still_graded(tmp_path, sandbox, hostile_config,
                                                                         docker_client):
    """The harness keeps its own budget inside the host's deadline: the student's sleep
    costs the student the checks it blocked, not the grading."""
    config = hostile_config.model_copy(update={"limits": hostile_config.limits.model_copy(
        update={"deadline_s": 6.0, "call_allowance_s": 300.0})})
    result = grade_docker(hostile_submission(tmp_path, "time.sleep(3600)"), sandbox, config, docker_client)
    assert result.gradable
    messages = [c.message for c in result.checks if c.status.value == "failed"]
    assert any("this grading's total time limit (6 s) was reached" in m for m in messages)
    assert result.wall_time_s < 30


def test_the_host_deadline_kills_a_container_that_gives_no_report(tmp_path, sandbox, hostile_config, docker_client):
    """A harness that cannot answer in time (here: the deadline passes before the
    container has even started Python) is the grader's failure; nothing is left behind."""
    from grader.errors import SandboxTimeout
    from grader.sandbox.base import SandboxJob

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.py").write_text("def conv_forward_naive(x, w, b, p):\n    pass\n")
    job = SandboxJob(submission_root=tmp_path / "sub", entry="x.py", harness_config=hostile_config.harness_job(1),
                     deadline_s=0.05)
    with pytest.raises(SandboxTimeout, match="within 0.05 s"):
        sandbox.run(job)
    assert_no_container_left(docker_client, sandbox.last_run_id)


# ---------------------------------------------------------------- the grader's own failures, cleanup


def test_unreachable_engine_is_not_gradable(monkeypatch, examples_dir, quick_config):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    result = grade_submission(examples_dir / "fast_strided.py", DockerSandbox(), quick_config, seed=SEED)
    assert result.gradable is False
    assert result.failure.kind == FailureKind.GRADER
    assert "Docker engine not reachable" in result.failure.message
    assert result.score == 0


def test_sweep_removes_leftovers_by_label(sandbox, docker_client):
    run_id = "sweeptest" + format(id(sandbox) % 10**6, "06d")
    client, image, _ = sandbox.ready()
    client.containers.create(image, ["sleep", "300"], labels={LABEL: "1", RUN_LABEL: run_id},
                             name=f"convgrade-{run_id}", network_mode="none").start()
    assert sweep_containers(docker_client, run_id=run_id) == 1
    assert_no_container_left(docker_client, run_id)
    assert sweep_containers(docker_client, run_id=run_id) == 0
