"""The generic self-check kit (grader/harness/assignments/layers_kit): for a pack without a kit
of its own and for a bundle, a right file passes, a wrong layer is named with the grader's own
message, and only the notebook's cases ship."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.harness import assignments
from grader.harness.assignments.bundle import Bundle
from grader.kit import build

from test_student_kit import leaks  # noqa: E402 (tests/kit is on sys.path, as pytest runs it)

REPO = Path(__file__).resolve().parents[2]
SUBMISSIONS = REPO / "submissions"


def unpack(files: dict[str, bytes], folder: Path) -> Path:
    """The kit's files as a student unzips them (what build.build writes, without the zip)."""
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def run_kit(kit: Path, submission: Path) -> subprocess.CompletedProcess:
    # -I: isolated, as a student runs it: no PYTHONPATH, not the checkout's folder on sys.path.
    return subprocess.run([sys.executable, "-I", str(kit / "check.py"), str(submission)],
                          capture_output=True, text=True, timeout=300, cwd=kit)


def failing_layers(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^Layer (\S+) fails \d+ check\(s\): see (.*)$", stdout, re.M))


@pytest.fixture(scope="module")
def kits(tmp_path_factory) -> dict[str, Path]:
    """Kits for two packs (affine; the loss layer, whose loss is a scalar; batchnorm, whose
    calls write running statistics into bn_param) and for a bundle of conv and max pooling
    (built here, so the test does not follow what cs231n-a2 grows to)."""
    made = {}
    for name in ("cs231n-affine", "cs231n-svm-loss", "cs231n-batchnorm"):
        folder = tmp_path_factory.mktemp(name)
        with zipfile.ZipFile(build.build(folder / "kit.zip", name)) as opened:
            opened.extractall(folder)
        made[name] = folder / build.TOP
    pair = Bundle("cs231n-pair", (assignments.get("cs231n-conv"), assignments.get("cs231n-maxpool")),
                  assignments.RACING)
    made["pair"] = unpack(build.kit_files(pair), tmp_path_factory.mktemp("pair"))
    return made


@pytest.mark.parametrize("kit_name, example", [("cs231n-affine", "affine/vectorised.py"),
                                                ("cs231n-affine", "affine/naive_loops.py"),
                                                ("cs231n-svm-loss", "svm_loss/vectorized.py"),
                                                ("cs231n-batchnorm", "batchnorm/vectorised.py")])
def test_a_right_layer_passes(kits, kit_name, example):
    done = run_kit(kits[kit_name], SUBMISSIONS / example)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^(\d+) of \1 checks passed\. The grader also runs hidden cases\.$", done.stdout, re.M)
    assert "FAIL" not in done.stdout


def test_a_wrong_layer_is_named_with_the_graders_message(kits):
    done = run_kit(kits["cs231n-affine"], SUBMISSIONS / "affine" / "bug_x_not_flattened.py")
    assert done.returncode == 1
    assert failing_layers(done.stdout) == {"affine": "affine_forward, affine_backward"}
    assert ("FAIL  backward/notebook-backward/dx: dx has shape (10, 6), expected (10, 2, 3) for x (10, 2, 3), "
            "which flattens to (10, 6), w (6, 5), b (5,)") in done.stdout
    assert "affine_forward raised ValueError: shapes (2,4,5,6) and (120,3) not aligned" in done.stdout
    assert "2 of 5 checks passed." in done.stdout


def test_a_loss_that_is_not_averaged_is_named(kits):
    done = run_kit(kits["cs231n-svm-loss"], SUBMISSIONS / "svm_loss" / "bug_loss_not_averaged.py")
    assert done.returncode == 1
    assert failing_layers(done.stdout) == {"svm-loss": "svm_loss"}
    assert re.search(r"FAIL  loss/notebook/loss: loss is wrong .*rel_error", done.stdout)


def test_a_running_mean_left_unwritten_is_told_as_the_grader_tells_it(kits):
    done = run_kit(kits["cs231n-batchnorm"], SUBMISSIONS / "batchnorm" / "bug_not_written_back.py")
    assert done.returncode == 1
    assert failing_layers(done.stdout) == {"batchnorm": "batchnorm_forward"}
    assert ("bn_param has no 'running_mean' after batchnorm_forward at x (200, 3) (no running statistics in "
            "bn_param): the call must store it in bn_param['running_mean']") in done.stdout


def test_an_input_written_in_place_fails_the_layers_inputs_check(tmp_path):
    kit = unpack(build.kit_files(assignments.get("cs231n-relu")), tmp_path)
    done = run_kit(kit, SUBMISSIONS / "relu" / "bug_x_in_place.py")
    assert done.returncode == 1
    assert "FAIL  inputs-unchanged: relu_forward changed its input x for x (3, 4)" in done.stdout


def test_a_bundle_kit_passes_a_right_file_and_names_the_wrong_layer(kits, tmp_path):
    # Files of the pair's two layers, joined here (cs231n-a2's examples hold every layer).
    conv = (SUBMISSIONS / "examples" / "fast_strided.py").read_text()
    right_file, stub_file = tmp_path / "right" / "layers.py", tmp_path / "stub" / "layers.py"
    for path, pool in ((right_file, (SUBMISSIONS / "maxpool" / "naive_loops.py").read_text()),
                       (stub_file, assignments.get("cs231n-maxpool").STARTER_TEMPLATE)):
        path.parent.mkdir()
        path.write_text(conv + "\n\n" + pool)
    right = run_kit(kits["pair"], right_file)
    assert right.returncode == 0, right.stdout + right.stderr
    assert "8 of 8 checks passed." in right.stdout
    stub = run_kit(kits["pair"], stub_file)
    assert stub.returncode == 1
    assert failing_layers(stub.stdout) == {"maxpool": "max_pool_forward_naive, max_pool_backward_naive"}
    assert ("FAIL  maxpool/forward/notebook-forward: out is None at pool 2x2, stride 2 (x (2, 3, 4, 4)): is the "
            "function finished and does it return out?") in stub.stdout
    assert "ok    conv/backward/notebook-backward/dw" in stub.stdout
    # A file with the convolution left out: its layer is named, max pooling still checked.
    joined = tmp_path / "layers.py"
    joined.write_text((SUBMISSIONS / "maxpool" / "naive_loops.py").read_text())
    missing = run_kit(kits["pair"], joined)
    assert failing_layers(missing.stdout) == {"conv": "conv_forward_naive, conv_backward_naive"}
    assert "FAIL  conv/forward/notebook-forward: conv_forward_naive is not defined in layers.py" in missing.stdout
    assert "ok    maxpool/inputs-unchanged: no call changed its inputs" in missing.stdout


def test_the_a2_kit_covers_every_layer_of_the_bundle(tmp_path):
    files = build.kit_files(assignments.get("cs231n-a2"))
    description = json.loads(files["kit/assignment.json"])
    assert [layer["name"] for layer in description["layers"]] == list(assignments.BUNDLES["cs231n-a2"])


# Every assignment the generic kit serves (a pack with a kit of its own: tests/kit/test_student_kit.py).
GENERIC_KIT = [name for name in [*assignments.PACKS, *assignments.BUNDLES] if assignments.get(name).KIT is None]


@pytest.mark.parametrize("name", GENERIC_KIT)
def test_only_the_notebook_cases_ship_and_no_reference_code(name, tmp_path):
    """Every shipped case is one of the pack's notebook cases, and no array of the kit is an
    input of a hidden case (default count, the grader's seed for a test course)."""
    assignment = assignments.get(name)
    files = build.kit_files(assignment)
    description = json.loads(files["kit/assignment.json"])
    kit = unpack(files, tmp_path)
    for layer, (_, pack) in zip(description["layers"], build_layers(assignment)):
        assert [case["id"] for case in layer["cases"]] in ([], [case.id for case in pack.notebook_cases()])
    shipped = np.load(kit / "kit" / "cases.npz")
    hidden = [array for _, pack in build_layers(assignment) for case in pack.hidden_cases(1234, 2)
              for array in vars(case).values() if isinstance(array, np.ndarray) and array.size > 4]
    for key in shipped.files:
        assert not any(a.shape == shipped[key].shape and np.array_equal(a, shipped[key]) for a in hidden), key
    sources = {str(p.relative_to(kit)): p.read_text() for p in kit.rglob("*") if p.suffix in (".py", ".json")}
    # A reference may define the student's own function names (reference/affine.py's affine_forward):
    # those the kit must name; any other reference name, copied code or import is a leak.
    own = {f"{path} names {function}" for path in sources for function in assignment.STUDENT_FUNCTIONS.values()}
    assert [leak for leak in leaks(sources) if leak not in own] == []


def build_layers(assignment):
    from grader.harness.assignments import layers_kit

    return layers_kit.layers_of(assignment)


def test_a_dict_the_grader_refuses_is_refused_in_the_same_words(kits):
    """bn_param comes back through the grader's own dict_args: an entry deleted refuses it,
    the written entries' checks say so, and a call that writes nothing fails the inputs check
    (the grader's answers in tests/test_batchnorm_pack.py)."""
    done = run_kit(kits["cs231n-batchnorm"], SUBMISSIONS / "batchnorm" / "hostile_dict_deletes.py")
    assert done.returncode == 1
    assert ("FAIL  forward_train/notebook-train/running_var: the grader refused bn_param as batchnorm_forward left it "
            "at x (200, 3) (no running statistics in bn_param): it deleted 'mode'") in done.stdout
    # The test-mode call writes nothing: there the refusal is an input change, as in the grader.
    assert ("FAIL  inputs-unchanged: the grader refused bn_param as batchnorm_forward left it at x (200, 3) (given "
            "running statistics in bn_param): it deleted 'mode'") in done.stdout
