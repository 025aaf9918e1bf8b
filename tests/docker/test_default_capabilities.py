"""Grading where courses grade: a container with Docker's default capabilities and seccomp
profile (no CAP_SYS_ADMIN, as on Gradescope or in a Kubernetes pod), no network.

One container from the local Debian base image serves every test here:

- the Gradescope autograder (``make gradescope``) is unzipped into /autograder/source, its
  setup.sh installs convgrade offline, and run_autograder grades a correct file, a partly
  wrong notebook and a hostile submission; each results.json must follow Gradescope's
  documented format and say what the grader must say;
- the isolation ladder: a representative subset of the hostile suite and of the examples
  (tests/hostile/verdicts.py) graded as root without CAP_SYS_ADMIN and as a plain user
  must get the same verdicts as with full privileges, with the missing isolation listed.
  (The whole set is run the same way by hand: ``verdicts.py --all``; see docs/operators.md.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.sandbox.image import BUILD_BASE_SCRIPT, BUILD_DIR, LOCAL_BASE, WHEEL_ABI

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "submissions" / "examples"
USER = "1000:1000"  # a plain user, with no entry in the image's passwd: nothing to lean on
# Representative of the hostile suite's families: escapes (files, network, signals,
# tracing, descriptors, the grader's folders), resources (processes, memory, disk: no tmpfs
# on these rungs, the disk cap's budget must give the same ENOSPC, fallocate with KEEP_SIZE
# too; a locked folder must not outlive the grading: verdicts.py checks nothing is left) and a control.
# And packages: the verdicts' environment holds scipy and pydantic (and the grader), which no
# student may import on any rung.
LADDER_CASES = ("honest_control", "fork_bomb", "signal_harness", "read_other_students", "network", "import_reference",
                "memory_forward", "disk_fill", "fallocate_keep_size", "locked_scratch_folder", "import_scipy",
                "import_pydantic", "import_grader")
LADDER_EXAMPLES = ("fast_strided", "bug_pad_slice")
QUICK_TIMING = {"size": "small", "budget_s": 0.2, "min_trials": 3, "max_trials": 3, "warmup_s": 0.0, "pairs": 2}

# Gradescope's results.json, as its autograder specification documents it.
FORMATS = ["text", "html", "simple_format", "md", "ansi"]
VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"]
GRADESCOPE_RESULTS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITY},
        "stdout_visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "score", "max_score", "status", "output", "visibility"],
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                "name_format": {"enum": FORMATS}, "number": {"type": "string"}, "output": {"type": "string"},
                "output_format": {"enum": FORMATS}, "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": {"enum": VISIBILITY}, "extra_data": {"type": "object"},
            },
        }},
        "leaderboard": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "value", "order"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}},
        }},
    },
}


def docker(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                             f"{done.stderr[-3000:]}")
    return done


def verdict_wheels() -> Path:
    """pytest and its dependencies, which verdicts.py needs (it reads the hostile table), and
    scipy: in the grader's environment, as in a venv made with the test extra, so that
    import_scipy meets a scipy the student must not reach."""
    cache = BUILD_DIR / "wheels" / f"test-{WHEEL_ABI}"
    if not list(cache.glob("pytest-*.whl")) or not list(cache.glob("scipy-*.whl")):
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--only-binary=:all:", "--python-version", "3.11", "--dest", str(cache), "pytest", "scipy"],
                       check=True, capture_output=True)
    return cache


@pytest.fixture(scope="module")
def box(docker_client, tmp_path_factory):
    """The container, with the autograder installed as Gradescope would, and a plain
    user's own install of the same wheels."""
    from grader.deploy.gradescope_zip import build

    if docker("image", "inspect", LOCAL_BASE, check=False).returncode != 0:
        subprocess.run(["bash", str(BUILD_BASE_SCRIPT)], check=True)
    work = tmp_path_factory.mktemp("gradescope")
    config = work / "rubric.json"
    config.write_text(json.dumps({"timing": QUICK_TIMING, "seed_secret": "course secret for the test"}))
    archive = build(work / "zip", config)
    name = f"convgrade-test-{uuid.uuid4().hex[:8]}"
    # Docker's defaults: no --cap-add, no --privileged, the default seccomp profile.
    docker("run", "-d", "--rm", "--name", name, "--label", "convgrade=1", "--network", "none",
           "-v", f"{REPO}:/src:ro", "-v", f"{verdict_wheels()}:/test-wheels:ro", LOCAL_BASE, "sleep", "infinity")
    try:
        docker("cp", str(archive), f"{name}:/tmp/autograder.zip")
        # Unzip keeping the files' modes, as unzip does (the base image has no unzip).
        run(name, "python3 -c \"import os, zipfile\n"
                  "with zipfile.ZipFile('/tmp/autograder.zip') as z:\n"
                  "    for i in z.infolist():\n"
                  "        os.chmod(z.extract(i, '/autograder/source'), (i.external_attr >> 16) & 0o777 or 0o644)\"\n"
                  "mkdir -p /tmp/wheels /tmp/u && cp /test-wheels/* /tmp/wheels/ && cp /autograder/source/wheels/* /tmp/wheels/ "
                  "&& chmod -R a+rX /tmp/wheels && chown 1000:1000 /tmp/u")
        run(name, "cd /tmp/u && python3 -m venv --without-pip venv && PIP=$(ls /tmp/wheels/pip-*.whl) && "
                  "venv/bin/python $PIP/pip install --quiet --no-index --find-links /tmp/wheels convgrade pytest scipy",
            user=USER)
        setup = run(name, "bash /autograder/source/setup.sh && cp /autograder/source/run_autograder /autograder/")
        assert "Isolation (process sandbox): private-uids" in setup.stdout, setup.stdout
        yield name
    finally:
        docker("rm", "-f", name, check=False)


def run(name: str, script: str, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    who = ["-u", user, "-e", "HOME=/tmp/u"] if user else []
    return docker("exec", *who, name, "bash", "-c", script, check=check)


def autograde(box: str, files: dict[str, bytes]) -> tuple[subprocess.CompletedProcess, dict | None]:
    """Place ``files`` in /autograder/submission, run run_autograder as Gradescope does."""
    run(box, "rm -rf /autograder/submission /autograder/results && mkdir -p /autograder/submission")
    for filename, data in files.items():
        local = Path(f"/tmp/{box}-{filename}")
        local.write_bytes(data)
        try:
            docker("cp", str(local), f"{box}:/autograder/submission/{filename}")
        finally:
            local.unlink()
    done = run(box, "cd /autograder && ./run_autograder", check=False)
    text = run(box, "cat /autograder/results/results.json 2>/dev/null", check=False).stdout
    results = json.loads(text) if text else None
    if results is not None:
        jsonschema.validate(results, GRADESCOPE_RESULTS)
    return done, results


def notebook(source: str) -> bytes:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source.splitlines(keepends=True)}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def test_gradescope_grades_a_correct_file(box):
    done, results = autograde(box, {"layers.py": (EXAMPLES / "fast_strided.py").read_bytes()})
    assert done.returncode == 0, done.stderr[-2000:]
    assert results["score"] == 100
    assert all(t["status"] == "passed" for t in results["tests"])
    assert {entry["name"] for entry in results["leaderboard"]} == {"forward speedup", "backward speedup"}
    assert all(entry["value"] > 0 for entry in results["leaderboard"])


def test_gradescope_grades_a_partly_wrong_notebook(box):
    done, results = autograde(box, {"convolution.ipynb": notebook((EXAMPLES / "unfinished_none.py").read_text())})
    assert done.returncode == 0, done.stderr[-2000:]
    assert results["score"] == 50
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["score"] == 0 for t in failed)
    assert any("dx is None" in t["output"] for t in failed)


def test_gradescope_hostile_submission_reaches_nothing(box):
    done, results = autograde(box, {"layers.py": (Path(__file__).parent / "submissions" / "gradescope_snoop.py")
                                    .read_bytes()})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LEAKED" not in json.dumps(results)
    assert results["score"] == 0
    assert "blocked: the secret, the reference and results.json are out of reach" in results["output"] + "".join(
        t["output"] for t in results["tests"])


def test_gradescope_grades_a_whole_layers_py_for_a_bundle(box, tmp_path):
    """A zip built for the cs231n-a2 bundle grades a whole layers.py: the right layers earn their
    points, the stub layer none, each check under its own layer's function. Its configuration
    replaces the box's while the test runs (the installed wheels are the same)."""
    from grader.deploy.gradescope_zip import build
    from grader.harness import assignments

    config = tmp_path / "rubric.json"
    config.write_text(json.dumps({"assignment": "cs231n-a2", "timing": QUICK_TIMING, "seed_secret": "a2 secret"}))
    with zipfile.ZipFile(build(tmp_path / "zip", config)) as archive:
        shipped = archive.read("convgrade.json")
    assert json.loads(shipped)["assignment"] == "cs231n-a2"
    local = tmp_path / "convgrade.json"
    local.write_bytes(shipped)
    run(box, "cp /autograder/source/convgrade.json /tmp/convgrade-pack.json")
    docker("cp", str(local), f"{box}:/autograder/source/convgrade.json")
    try:
        stub = (REPO / "submissions" / "a2" / "layers_maxpool_stub.py").read_bytes()
        done, results = autograde(box, {"layers.py": stub})
    finally:
        run(box, "cp /tmp/convgrade-pack.json /autograder/source/convgrade.json")
    assert done.returncode == 0, done.stderr[-2000:]
    functions = {fn for name in assignments.BUNDLES["cs231n-a2"]
                 for fn in assignments.get(name).STUDENT_FUNCTIONS.values()}
    by_function = {}
    for test in results["tests"]:
        by_function.setdefault(test["name"].split()[0].rstrip(":"), []).append(test)
    maxpool = by_function.pop("max_pool_forward_naive") + by_function.pop("max_pool_backward_naive")
    by_function.pop("maxpool")  # its inputs check: earns nothing beside no correct answer
    keys = {layer.key for layer in assignments.get("cs231n-a2").layers}  # the inputs checks: "conv: inputs ..."
    assert set(by_function) <= functions | keys and {"conv_forward_naive", "affine_forward"} <= set(by_function)
    others = [test for tests in by_function.values() for test in tests]
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in others)
    assert all(t["status"] == "failed" and t["score"] == 0 and "is still the starter code's stub" in t["output"]
               for t in maxpool)
    assert results["score"] == pytest.approx(sum(t["max_score"] for t in others))
    assert {entry["name"] for entry in results["leaderboard"]} >= {"conv/forward speedup", "conv/backward speedup"}


def test_gradescope_grader_fault_fails_the_run_visibly(box):
    """With its runtime gone the grader cannot grade: no results.json, a failed run, never a zero."""
    run(box, "mv /opt/convgrade/venv/lib/python3.11/site-packages/numpy /tmp/numpy-away")
    try:
        done, results = autograde(box, {"layers.py": (EXAMPLES / "fast_strided.py").read_bytes()})
    finally:
        run(box, "mv /tmp/numpy-away /opt/convgrade/venv/lib/python3.11/site-packages/numpy")
    assert done.returncode != 0
    assert results is None
    assert "no score was written" in done.stderr


@pytest.mark.parametrize(("user", "level", "lacking"), [
    pytest.param(None, "private-uids", "namespaces (mount, network, IPC): need CAP_SYS_ADMIN", id="root-default-caps"),
    pytest.param(USER, "user", "private uids (need root)", id="plain-user")])
def test_ladder_gives_full_privilege_verdicts(box, user, level, lacking):
    """The subset's verdicts equal the full-privilege ones, and each result names its rung
    and what it lacked."""
    done = run(box, f"/tmp/u/venv/bin/python -B /src/tests/hostile/verdicts.py --cases {','.join(LADDER_CASES)} "
                    f"--examples {','.join(LADDER_EXAMPLES)}", user=user, check=False)
    verdicts = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [v["case"] for v in verdicts] == [*LADDER_CASES, *(f"example:{e}" for e in LADDER_EXAMPLES)], done.stderr[-3000:]
    assert [v for v in verdicts if not v["ok"]] == []
    assert done.returncode == 0
    for verdict in verdicts:
        assert verdict["isolation"] == level
        assert any(item.startswith(lacking) for item in verdict["lacks"]), verdict["lacks"]
        # Landlock where the kernel (and the container's seccomp profile) has it, else said missing.
        assert any(item.startswith("Landlock ABI") for item in verdict["has"]) or any(
            item.startswith("Landlock") for item in verdict["lacks"]), verdict
