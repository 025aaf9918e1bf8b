"""Hostile submissions, end to end: each one attacks or tries to break the grader, and
the table says EXACTLY what the grader must make of it.

Every case (tests/hostile/submissions/<case>.py, or an archive built below) is graded
through ``grade_submission`` on the process backend, and on the docker backend too when
``grader.sandbox.docker`` exists (those runs are marked ``docker``). For each grading:

- the expected score, computed from the check plan and the default rubric (each group's
  points split equally among its checks), which checks fail and a substring of their
  messages, whether each function was timed (or why not), and an upper bound on the
  grading's wall time;
- the result is gradable (a hostile submission never makes the grader fail) and valid
  against schemas/result.schema.json;
- afterwards: no process of the run's private uid pair is left, the run left no
  convgrade-* folder in the temporary directory (redirected to a private one, so that
  concurrent gradings elsewhere on the machine do not matter), no hostile-canary-* file and
  no new results.json appeared in /tmp, /var/tmp, /dev/shm, the project, $HOME, ..., no
  socket and no System V IPC object of the private uid range exists on the host.

Escape attempts are written so that success is distinguishable: a module that reads what
it should not falls through to honest code (score 100, prints "LEAKED"), one that is
blocked raises ImportError("blocked: ...") (score 0). "LEAKED" must never appear.

Run: ``.venv/bin/python -m pytest tests/hostile -m "not docker"`` (as root, Linux).
"""

from __future__ import annotations

import dataclasses
import fcntl
import glob
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import shutil
import site
import socket
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest

from grader.grading.config import ForbiddenCalls, GradingConfig, Limits, TimingSettings
from grader.grading.grade import grade_submission
from grader.harness.assignments import cs231n_conv as conv2d
from grader.sandbox import get_sandbox
from grader.sandbox.base import UID_RANGE
from grader.sandbox.placement import Placement

HERE = Path(__file__).resolve().parent
SUBMISSIONS = HERE / "submissions"
PROJECT = HERE.parents[1]
SCHEMA = json.loads((PROJECT / "schemas" / "result.schema.json").read_text())
HONEST = (SUBMISSIONS / "honest_control.py").read_text()

SEED = 7316485529  # also in submissions/snoop_seed.py
OTHERS_DIR = Path("/opt/convgrade-hostile-others")  # also in submissions/read_other_students.py
LISTEN_PORTS = range(47231, 47236)  # the test listens on the first free one on the host's loopback (network.py)
LEFT_LISTENING_PORT = 47232  # the submission listens here (in its own network namespace)
MiB = 1 << 20

pytestmark = [
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or os.geteuid() != 0,
        reason="the hostile suite needs Linux and root (private uids, namespaces, uid-based leftover checks)",
    ),
    pytest.mark.slow,  # about 70 gradings per backend: minutes, so not in the quick subset
]

HAVE_DOCKER_BACKEND = importlib.util.find_spec("grader.sandbox.docker") is not None
BACKENDS = [pytest.param("process", id="process")]
if HAVE_DOCKER_BACKEND:
    BACKENDS.append(pytest.param("docker", id="docker", marks=pytest.mark.docker))


# -- expectations --------------------------------------------------------------------

# Parts of the check list an expectation can name (joined with '+').
PARTS = {
    "forward": lambda cid: cid.startswith("forward/"),
    "backward": lambda cid: cid.startswith("backward/"),
    "inputs": lambda cid: cid == "inputs-unchanged",
    "dw": lambda cid: cid.startswith("backward/") and cid.endswith("/dw"),
    "notebook-forward": lambda cid: cid == "forward/notebook-forward",
}
FUNCTION_PARTS = {"forward": ("forward", "notebook-forward"), "backward": ("backward", "dw")}


@dataclass(frozen=True)
class Expect:
    fails: str = "none"
    """Checks that fail: "none", "all", or parts of PARTS joined with '+'."""
    message: str | dict[str, str] = ""
    """A substring of every failing check's message; a dict gives one per part."""
    timing: tuple[str, str] | None = None
    """(forward, backward): "measured" or a substring of the reason; None: follows from ``fails``."""
    max_speedup: float | None = None
    """Both functions must be measured at most this fast (timing tricks must not pay)."""
    output: str = ""
    """A substring of the captured student output."""
    loaded: bool = True
    """False when the loader refuses the submission (no sandbox run)."""
    max_s: float = 20.0
    """Bound on the whole grading's wall time."""
    checks: tuple = field(default_factory=tuple)
    """Names of extra checks (functions in EXTRA_CHECKS) to run on the result."""
    forbidden: tuple = ()
    """Graded with these forbidden.modules under policy "zero" (the default configuration forbids nothing)."""

    def failing(self, check_id: str) -> bool:
        if self.fails == "all":
            return True
        if self.fails == "none":
            return False
        return any(PARTS[part](check_id) for part in self.fails.split("+"))

    def message_for(self, check_id: str) -> str:
        if isinstance(self.message, str):
            return self.message
        return next(text for part, text in self.message.items() if PARTS[part](check_id))

    def timing_for(self, function: str) -> str:
        if self.timing is not None:
            return self.timing[0 if function == "forward" else 1]
        if not self.loaded:
            return "could not be loaded"
        if self.fails == "all":
            return "could not be imported"
        parts = set(self.fails.split("+"))
        return "failed a correctness check" if parts & set(FUNCTION_PARTS[function]) else "measured"


UNEARNED_PROPERTY = "returned a correct output"


def unearned_properties(config: GradingConfig, expect: Expect) -> set[str]:
    """Property checks (inputs unchanged) that fail although the harness saw nothing wrong:
    they earn points only when a call they cover returned a correct output."""
    plan = conv2d.check_plan(config.hidden_cases)
    unearned = set()
    for group, functions in conv2d.PROPERTY_GROUPS.items():
        covered = [c["id"] for c in plan if c["call"] in functions and c["group"] not in conv2d.PROPERTY_GROUPS]
        if all(expect.failing(check_id) for check_id in covered):
            unearned |= {c["id"] for c in plan if c["group"] == group and not expect.failing(c["id"])}
    return unearned


def message_problems(failed: dict[str, str], expect: Expect, unearned: set[str]) -> list[str]:
    """The failing checks (id: message) whose message does not say what the table says."""
    if "load" in failed:  # not loaded or not imported: the reason is said once, in the load check
        problems = [] if expect.message_for(next(c for c in failed if c != "load")) in failed["load"] else \
            [f"load: {failed['load'][:600]}"]
        return problems + [f"{c}: {m[:200]}" for c, m in failed.items() if c != "load" and not m.startswith("not run: ")]
    return [f"{check_id}: {message[:600]}" for check_id, message in failed.items()
            if (UNEARNED_PROPERTY if check_id in unearned else expect.message_for(check_id)) not in message]


def expected_score(config: GradingConfig, expect: Expect) -> float:
    """The rubric's score when exactly the checks ``expect`` names fail (and the unearned properties)."""
    plan = conv2d.check_plan(config.hidden_cases)
    unearned = unearned_properties(config, expect)
    sizes: dict[str, int] = {}
    for check in plan:
        sizes[check["group"]] = sizes.get(check["group"], 0) + 1
    return sum(config.rubric.points[c["group"]] / sizes[c["group"]] for c in plan
               if not expect.failing(c["id"]) and c["id"] not in unearned)


def case_config(config: GradingConfig, expect: Expect) -> GradingConfig:
    """The suite's configuration, with the case's forbidden modules under policy "zero"."""
    if not expect.forbidden:
        return config
    return config.model_copy(update={"forbidden": ForbiddenCalls(modules=list(expect.forbidden), policy="zero")})


IMPORT_BLOCKED = "blocked"
LIE = "the grader flagged alice and bob as copies of each other"  # also in submissions/lying_exception_at_import.py
DIVISION_HINT = "Hint: Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float)"
NOT_A_NDARRAY = "expected a numpy.ndarray"
STRIDE_TRICKS = ("numpy.lib.stride_tricks",)
FORBIDS = "scored 0: the course forbids a call this function makes"
BOTH_TIMED = ("measured", "measured")  # the zero policy is the host's: the harness timed what it checked
LOOP = "is there an infinite loop?"
NOT_INSTALLED = "ModuleNotFoundError: No module named '{0}'\nHint: {0} is not installed in the grading environment; "

CASES = [
    # -- control
    ("honest_control", Expect()),
    # -- time
    ("loop_at_import", Expect(fails="all", message="infinite loop at module level", max_s=15)),
    ("loop_in_forward", Expect(fails="forward", message=LOOP, max_s=30)),
    ("signals_ignored_loop", Expect(fails="forward", message=LOOP, max_s=30)),
    # Each of its four backward calls runs to its limit, 1 s + 500x the reference's time on the case;
    # the harness measures that at 7-14 ms for the small hidden cases (0.2 ms in a plain process:
    # not understood yet), so the limits sum to about 21 s before any load: 60 s, not 30, bounds it.
    ("sleep_past_deadline", Expect(fails="backward", message="did not finish within", max_s=60)),
    ("thread_at_import", Expect(fails="all", message="can't start new thread")),
    ("thread_early_answer", Expect(fails="forward", message="can't start new thread (the grader runs your code as one "
                                                            "process: threads and child processes are refused)")),
    # -- resources
    ("fork_bomb", Expect(fails="forward", message="BlockingIOError: [Errno 11] Resource temporarily unavailable "
                                                  "(the grader runs your code as one process")),
    ("memory_forward", Expect(fails="forward", message="memory limit of 0.25 GiB exceeded in conv_forward_naive")),
    ("memory_backward_gradual", Expect(fails="backward",
                                       message="memory limit of 0.25 GiB exceeded in conv_backward_naive")),
    ("disk_fill", Expect(fails="notebook-forward", message="No space left on device")),
    ("fallocate_keep_size", Expect(fails="notebook-forward", message="fallocate(KEEP_SIZE) of 256 MiB refused")),
    ("locked_scratch_folder", Expect(output="locked folder made: mode 000")),
    ("flood_output", Expect(output="more bytes not shown", checks=("output_capped",))),
    ("many_files", Expect(fails="forward", message="Too many open files")),
    ("segfault", Expect(fails="forward", message="crashed with a segmentation fault (SIGSEGV)")),
    ("os_exit_at_import", Expect(fails="all", message="the process exited with code 0")),
    ("sys_exit_at_import", Expect(fails="all", message="SystemExit: 0")),
    ("os_exit_in_call", Expect(fails="forward", message="exited with code 0")),
    ("sys_exit_in_call", Expect(fails="backward", message="conv_backward_naive called sys.exit(3)")),
    ("sysv_shared_memory", Expect(output="shmget -> ")),
    ("sysv_shm_fill", Expect(output="shmget refused")),
    ("memfd_fill", Expect(output="memfd refused after 0 MiB")),
    ("raise_priority", Expect(output="priority refused")),
    ("emoji_flood_messages", Expect(fails="forward+backward", message="FloodError", checks=("messages_bounded",))),
    ("orphan_worker", Expect(fails="forward", message=LOOP, output="PDEATHSIG refused", max_s=30)),
    ("raise_limits", Expect(fails="all", message=IMPORT_BLOCKED)),
    # -- escape and snooping
    ("network", Expect(fails="all", message=IMPORT_BLOCKED, checks=("listener_untouched",))),
    ("snoop_seed", Expect(fails="all", message=IMPORT_BLOCKED)),
    ("snoop_files", Expect(fails="all", message=IMPORT_BLOCKED)),
    ("import_reference", Expect(fails="all", message="blocked: reference not importable")),
    ("steal_reference_copies", Expect(fails="all", message="blocked: no copy of the reference")),
    ("read_other_students", Expect(fails="all", message="blocked: alice.py not readable")),
    ("write_grader_dirs", Expect(fails="all", message=IMPORT_BLOCKED)),
    ("signal_harness", Expect(fails="all", message=IMPORT_BLOCKED)),
    ("ptrace_self", Expect(output="ptrace(TRACEME) refused")),
    ("session_keyring", Expect(fails="all", message=IMPORT_BLOCKED)),
    ("dumpable_worker", Expect(output="dumpable=0 set=-1")),
    ("user_namespace", Expect(output="user namespace refused")),
    ("abstract_socket", Expect(fails="all", message=IMPORT_BLOCKED)),
    ("pidfd_steal_fds", Expect(fails="all", message=IMPORT_BLOCKED)),
    # -- packages: only numpy, the standard library and the course's `packages` are importable,
    # whatever the grader's own environment holds (scipy from a test extra, its own dependencies)
    ("import_scipy", Expect(fails="all", message=NOT_INSTALLED.format("scipy"))),
    ("import_pydantic", Expect(fails="all", message=NOT_INSTALLED.format("pydantic"))),
    ("import_grader", Expect(fails="all", message=NOT_INSTALLED.format("grader"))),
    ("escape_package_view", Expect(fails="all", message="blocked: only the course's packages are here")),
    # -- forgery
    ("print_result_json", Expect(fails="forward+backward", message="is wrong", output='"score": 100.0')),
    ("write_results_json", Expect(fails="forward+backward", message="is wrong")),
    ("ndarray_subclass", Expect(fails="forward", message=NOT_A_NDARRAY)),
    ("lying_object", Expect(fails="forward", message=NOT_A_NDARRAY)),
    ("returns_list", Expect(fails="forward", message="out is a list, expected a numpy.ndarray")),
    ("returns_none", Expect(fails="forward", message="out is None")),
    ("returns_nan", Expect(fails="forward", message="out has 1 NaN and 0 infinite values")),
    ("returns_inf", Expect(fails="dw", message="dw has 0 NaN and 1 infinite values")),
    ("object_array", Expect(fails="forward", message="out has dtype object, expected float64")),
    ("complex_array", Expect(fails="forward", message="out has dtype complex128, expected float64")),
    ("wrong_shape", Expect(fails="forward", message="out has shape (")),
    ("huge_array", Expect(fails="forward", message="out has shape (10000, 10000), expected")),
    ("byteswapped_array", Expect()),
    ("tuple_too_long", Expect(fails="forward", message="returned tuple of length 3, expected a tuple (out, cache)")),
    ("backward_tuple_short", Expect(fails="backward",
                                    message="returned tuple of length 2, expected a tuple (dx, dw, db)")),
    # -- timing tricks
    # Both burn 50 ms per call; the reference takes 1-4 ms at the small timed size, so an honest
    # figure is 0.02-0.08 (which side of that a grading lands on follows trial order: issue 9's
    # note). A trick that paid would show the code as fast as the reference or faster: 0.2 holds.
    ("patch_clocks", Expect(max_speedup=0.2)),
    ("memoize_answers", Expect(max_speedup=0.2)),
    ("multiprocessing_pool", Expect(fails="forward", message="conv_forward_naive raised")),
    ("steal_reference_cpu", Expect()),  # its speed, and the others': test_timing_tricks_do_not_pay
    ("steal_reference_cpu_twin", Expect()),
    ("output_in_arena", Expect()),
    ("output_in_arena_twin", Expect()),
    ("copy_out_does_work", Expect()),
    ("copy_out_does_work_twin", Expect()),
    ("output_after_reply", Expect(fails="forward", message="out is wrong")),
    ("sleep_in_call", Expect()),
    ("io_uring_sqpoll", Expect(output="io_uring_setup -> ")),
    ("move_to_other_core", Expect(output="sched_setaffinity refused")),
    ("evict_caches_after_reply", Expect()),  # its speed: test_timing_tricks_do_not_pay
    ("slow_first_speed_call", Expect()),  # its speed: test_timing_tricks_do_not_pay
    ("fast_then_slow", Expect()),  # its speed: tests/test_timing_plan.py
    ("burn_untimed_repeats", Expect()),  # its plan: tests/test_timing_plan.py
    ("float32_at_timing_size", Expect(timing=("the output of timed trial 1 was wrong",) * 2)),
    # -- tampering
    ("patch_numpy_compare", Expect(fails="forward+backward+inputs",
                                   message={"forward": "is wrong", "backward": "is wrong",
                                            "inputs": "conv_forward_naive changed its input x"})),
    ("mutate_x", Expect(fails="inputs", message="conv_forward_naive changed its input x at",
                        timing=("not timed: conv_forward_naive changed its input x",) * 2,
                        checks=("blames_forward_only",))),
    # A plain value's change is reported by the student's own process, which can forge it:
    # shown, never scored, so hiding it (the forging twin) gains nothing.
    ("mutate_conv_param", Expect(checks=("conv_param_change_shown",))),
    ("hide_conv_param_change", Expect(checks=("conv_param_change_hidden",))),
    ("mutate_dout", Expect(fails="inputs", message="conv_backward_naive changed its input dout",
                           timing=("not timed: conv_backward_naive changed its input dout",) * 2)),
    # -- forged protocol messages (the worker is the student's to patch)
    ("forge_reply_shape_overflow", Expect(fails="forward", message="the worker sent a malformed reply")),
    ("forge_reply_error_fields", Expect(fails="forward", message="conv_forward_naive raised",
                                        checks=("messages_bounded",))),
    ("forge_reply_extra_labels", Expect(fails="forward", message="the worker sent a malformed reply (results ['extra0'")),
    ("forge_reply_missing_label", Expect(timing=("sent a malformed reply (results [] instead of ['out'])",) * 2)),
    ("forge_reply_changed_args", Expect()),
    ("forge_reply_deep_json", Expect(fails="forward", message="the worker sent a malformed reply (message is not JSON")),
    ("exit_after_reply", Expect(timing=("had been stopped after its previous call",) * 2)),
    ("hang_on_forget", Expect(timing=("had been stopped", "had been stopped"), max_s=30)),
    ("forge_ready_message", Expect(fails="forward+backward", message="is not defined in forge_ready_message.py")),
    ("forge_ready_in_call", Expect(timing=("sent a 'ready' message out of turn",) * 2)),
    # -- integrity: forbidden calls by any path, the watch's hook, the public board's reason
    ("forbidden_plain_as_strided", Expect(fails="forward", message=FORBIDS, timing=BOTH_TIMED, forbidden=STRIDE_TRICKS,
                                          checks=("forward_zeroed_for_as_strided",))),
    ("forbidden_getattr_stride_tricks", Expect(fails="forward", message=FORBIDS, timing=BOTH_TIMED,
                                               forbidden=STRIDE_TRICKS, checks=("forward_zeroed_for_as_strided",))),
    ("forbidden_private_impl_module", Expect(fails="forward", message=FORBIDS, timing=BOTH_TIMED,
                                             forbidden=STRIDE_TRICKS, checks=("forward_zeroed_for_sliding_window",))),
    ("deeply_nested_source", Expect(fails="forward", message=FORBIDS, timing=BOTH_TIMED, forbidden=STRIDE_TRICKS,
                                    checks=("forward_zeroed_statically",))),
    ("watch_hook_removed", Expect(forbidden=STRIDE_TRICKS, checks=("hook_removed_marked",))),
    ("watch_hook_replaced", Expect(forbidden=STRIDE_TRICKS, checks=("hook_replaced_marked",))),
    ("lying_exception_at_import", Expect(fails="all", message=f"CopyNotice: {LIE}", checks=("board_shows_only_the_type",))),
    # -- text that is not safe to store or show
    ("lone_surrogate_message", Expect(fails="forward", message="raised ValueError: broken \ufffd",
                                      checks=("serialisable",))),
    ("escape_codes", Expect(fails="forward", message="ValueError: \\x1b[1A\\x1b[2K\\x0descape_codes",
                            output="\\x1b[2J\\x1b[Hescape_codes: 100/100\\x0d", checks=("no_control_characters",))),
    ("raw_bytes_output", Expect(output="a\\x00b\ufffd\\x1b[2Jc", checks=("no_control_characters",))),
    # -- archives and notebooks (built by ARCHIVES below)
    ("zip_traversal", Expect(fails="all", loaded=False, message="has a '..' component")),
    ("zip_absolute_path", Expect(fails="all", loaded=False, message="has an absolute path")),
    ("zip_symlink", Expect(fails="all", loaded=False, message="symlinks are not allowed: notes/passwd -> /etc/passwd")),
    ("zip_bomb", Expect(fails="all", loaded=False, message="over the compression ratio limit")),
    ("zip_bad_utf8_name", Expect(fails="all", loaded=False, message="not a valid zip archive")),
    ("zip_cp437_name", Expect()),
    ("zip_long_folder_name", Expect(fails="all", loaded=False, message="is over 255 bytes")),
    ("zip_deep_folders", Expect(fails="all", loaded=False, message="more than 32 folders deep")),
    ("zip_shadow_worker_modules", Expect()),
    ("notebook_shell_cells", Expect(checks=("notebook_canary_survives",))),
    # a class body that runs code at import (issue 15, item 13): the class is dropped, nothing runs
    ("notebook_class_body_exec", Expect(checks=("notebook_class_body_not_run",))),
    # -- the host's own analyses of the student's text (hints, Python 2 division)
    ("deep_nesting_hints", Expect(fails="forward", message=DIVISION_HINT + ": deep_nesting_hints.py line 182: "
                                  "`H_out = (H + 2 * pad - HH) / stride + 1`")),
    # An output holding a 100,000-digit number: json.loads raised Python's int-digits ValueError.
    ("notebook_huge_number", Expect()),
    # A notebook whose forward raises a message forging a traceback line of 5000 digits: pointing
    # it at a notebook cell raised the same ValueError on the host (own hunt).
    ("notebook_forged_line_number", Expect(fails="forward", message='raised ValueError: File "submission.py", '
                                           "line 99999")),
    # 107 KB whose every failed check draws the division hint: 7 min to grade before (a quadratic
    # analysis, once per message), a few seconds now; 60 s is a generous bound on a loaded machine.
    ("division_hint_flood", Expect(fails="forward+backward", message=DIVISION_HINT + ": division_hint_flood.py "
                                   "line 9: `H_out = 1 + (H + 2 * pad - HH) / stride`", max_s=60)),
]


# -- archives --------------------------------------------------------------------------


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return path


def _patched(path: Path, old: bytes, new: bytes) -> Path:
    """Replace a member name's bytes everywhere (local header and central directory)."""
    assert len(old) == len(new)
    raw = path.read_bytes()
    assert raw.count(old) == 2, "the name should appear in the local header and the central directory"
    path.write_bytes(raw.replace(old, new))
    return path


def _symlink_member(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so external_attr carries the mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


NOTEBOOK_CANARY = "hostile-notebook-canary"  # a file the notebook's shell cells try to delete


def _notebook(path: Path, canary_dir: Path) -> Path:
    def cell(source: str) -> dict:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}

    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Convolution"},
        cell(HONEST.split('"""', 2)[2]),
        cell(f"!rm -rf ~ {canary_dir}"),
        cell(f"%system rm -rf {canary_dir}"),
        cell(f"%%bash\nrm -rf {canary_dir}\ntouch /tmp/hostile-canary-notebook-bash"),
        cell(f"import os\nos.system('rm -rf {canary_dir}; touch /tmp/hostile-canary-notebook-os')"),
        cell("import subprocess\nsubprocess.run(['touch', '/tmp/hostile-canary-notebook-subprocess'])"),
        cell(f"get_ipython().system('rm -rf {canary_dir}')"),
        cell("files = !ls /\nprint(files)"),
    ]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook))
    return path


def build_archive(case: str, folder: Path) -> Path:
    honest = HONEST.encode()
    if case == "zip_traversal":
        return _zip(folder / "traversal.zip", [("layers.py", honest), ("../hostile-canary-zip.py", b"x = 1\n")])
    if case == "zip_absolute_path":
        return _zip(folder / "absolute.zip", [("layers.py", honest),
                                              (zipfile.ZipInfo("/tmp/hostile-canary-zip-absolute.py"), b"x = 1\n")])
    if case == "zip_symlink":
        return _zip(folder / "symlink.zip", [("layers.py", honest), _symlink_member("notes/passwd", "/etc/passwd")])
    if case == "zip_bomb":
        return _zip(folder / "bomb.zip", [("layers.py", honest), ("data.npy", bytes(20 * MiB))])
    if case == "zip_bad_utf8_name":
        # A member flagged UTF-8 (non-ASCII name) whose name bytes are not UTF-8.
        path = _zip(folder / "bad_utf8.zip", [("layers.py", honest), ("caf\u00e9.py", b"x = 1\n")])
        return _patched(path, "caf\u00e9.py".encode(), b"caf\xff\xfe.py")
    if case == "zip_cp437_name":
        path = _zip(folder / "cp437.zip", [("layers.py", honest), ("notes/cafX.txt", b"notes\n")])
        return _patched(path, b"cafX.txt", b"caf\x82.txt")  # no UTF-8 flag: cp437, an e-acute
    if case == "zip_long_folder_name":  # one folder name past the file system's 255 bytes
        return _zip(folder / "long_name.zip", [("layers.py", honest), ("d" * 300 + "/notes.txt", b"notes\n")])
    if case == "zip_deep_folders":  # own hunt: 1990 nested folders crashed the cleanup (RecursionError)
        return _zip(folder / "deep.zip", [("layers.py", honest), ("d/" * 1990 + "notes.txt", b"notes\n")])
    if case == "zip_shadow_worker_modules":
        # Own hunt: modules named like the ones the worker itself uses, next to the
        # student's. The worker imported its own before the student's folder joined
        # sys.path, so these are never run: score 100, no "LEAKED".
        shadows = [(f"{name}.py", f"print('LEAKED: the worker imported the submission\\'s {name}.py')\n".encode())
                   for name in ("protocol", "json", "traceback", "importlib", "worker")]
        return _zip(folder / "shadow.zip", [("layers.py", honest), *shadows])
    if case == "notebook_shell_cells":
        canary_dir = folder / "canary"  # anyone may delete it: only not running the cells keeps it
        canary_dir.mkdir(mode=0o777)
        os.chmod(canary_dir, 0o777)
        (canary_dir / NOTEBOOK_CANARY).write_text("still here\n")
        return _notebook(folder / "notebook_shell_cells.ipynb", canary_dir)
    if case == "notebook_class_body_exec":
        class_body = "class Recorder:\n    exec(\"print('RAN AT IMPORT')\")\n    def record(self):\n        pass\n"
        notebook = {"cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Convolution"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": HONEST.split('"""', 2)[2]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": class_body},
        ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        path = folder / "notebook_class_body_exec.ipynb"
        path.write_text(json.dumps(notebook))
        return path
    if case == "notebook_huge_number":
        cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": HONEST.split('"""', 2)[2],
                "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                             "data": {"text/plain": "HUGE"}}]}
        text = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        path = folder / "notebook_huge_number.ipynb"
        path.write_text(text.replace('"HUGE"}}', '"HUGE", "application/json": ' + "9" * 100_000 + "}}"))
        return path
    if case == "notebook_forged_line_number":
        source = HONEST.split('"""', 2)[2].replace(
            "def conv_forward_naive(x, w, b, conv_param):\n    return _forward(x, w, b, conv_param)",
            "def conv_forward_naive(x, w, b, conv_param):\n"
            "    raise ValueError('File \"submission.py\", line ' + '9' * 5000)")
        assert "9' * 5000" in source
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
        path = folder / "notebook_forged_line_number.ipynb"
        path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        return path
    if case == "division_hint_flood":
        path = folder / "division_hint_flood.py"
        path.write_text(division_hint_flood(107_000))
        return path
    raise KeyError(case)


def division_hint_flood(size: int) -> str:
    """Python 2 division in both functions (every check fails with the float error and draws
    the hint), and a helper whose chain of assignments from a float fills the file: proving
    each of its names is not an int took the old analysis a pass over the scope per name."""
    head = ('''"""Python 2 division: `/` makes the output sizes floats."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    H_out = 1 + (H + 2 * pad - HH) / stride
    W_out = 1 + (W + 2 * pad - WW) / stride
    return np.zeros((N, F, H_out, W_out)), (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    H_out = 1 + (H + 2 * pad - w.shape[2]) / stride
    return np.zeros((N, C, H_out, H_out)), np.zeros_like(w), np.zeros_like(b)


def scale(x, stride):
    v0 = x.mean()
''')
    lines = [head]
    size_so_far, count = len(head), 1
    while size_so_far < size:
        lines.append(f"    v{count} = v{count - 1} * 2 + 1\n")
        size_so_far += len(lines[-1])
        count += 1
    lines.append(f"    return x[:v{count - 1} / stride]\n")
    return "".join(lines)


ARCHIVES = {"notebook_huge_number", "notebook_forged_line_number", "division_hint_flood",
            "notebook_class_body_exec", "zip_traversal", "zip_absolute_path", "zip_symlink", "zip_bomb", "zip_bad_utf8_name",
            "zip_cp437_name", "zip_long_folder_name", "zip_deep_folders", "zip_shadow_worker_modules",
            "notebook_shell_cells"}


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def hostile_config(quick_config) -> GradingConfig:
    """quick_config's short timing phase on the small size; three hidden cases; tight limits:
    256 MiB of memory, 32 MiB of scratch, 5 s to import, about 1.2 s per call."""
    return GradingConfig(
        hidden_cases=3,
        timing=quick_config.timing,
        limits=Limits(memory_bytes=256 * MiB, scratch_bytes=32 * MiB, import_timeout_s=5, call_allowance_s=1.0,
                      call_time_factor=500, deadline_s=90),
    )


@pytest.fixture(scope="session")
def private_tmp():
    """The temporary directory the grader uses in these tests (traversable by the workers'
    uids, as /tmp is): every convgrade-* folder of our gradings lands here, so leftovers are
    ours alone."""
    path = Path(tempfile.mkdtemp(prefix="hostile-run-", dir="/tmp"))
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def seed_decoy():
    """A process with the seed on its command line, as `convgrade grade --seed N` has."""
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "--seed", str(SEED)])
    yield decoy
    decoy.kill()
    decoy.wait()


@pytest.fixture(scope="session")
def loopback_listener():
    """A TCP listener on the host's 127.0.0.1, on the first free port of LISTEN_PORTS (None if all are taken)."""
    for port in LISTEN_PORTS:
        if port == LEFT_LISTENING_PORT:
            continue
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", port))
            break
        except OSError:
            listener.close()
    else:
        yield None
        return
    listener.listen()
    listener.setblocking(False)
    yield listener
    listener.close()


@pytest.fixture(scope="session")
def other_students(one_hostile_suite_at_a_time):
    """Another student's world-readable solution, in a folder the grading hides (as a batch does),
    and a world-readable decoy copy of the reference: another checkout elsewhere on a machine."""
    OTHERS_DIR.mkdir(mode=0o755, exist_ok=True)
    os.chmod(OTHERS_DIR, 0o755)
    alice = OTHERS_DIR / "alice.py"
    alice.write_text(HONEST)
    os.chmod(alice, 0o644)
    decoy = OTHERS_DIR / "reference"
    shutil.copytree(PROJECT / "reference", decoy, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [decoy, *decoy.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    yield OTHERS_DIR
    shutil.rmtree(OTHERS_DIR, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def one_hostile_suite_at_a_time():
    """The suite plants files at fixed host paths (OTHERS_DIR, named by the attacks themselves) and
    checks the host for the private uid range's processes and leftovers: two runs at once (two
    checkouts on one machine) would see each other's. So runs on one host take turns."""
    with open(OTHERS_DIR.with_name(OTHERS_DIR.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def sandboxes():
    made = {}

    def get(name: str):
        if name not in made:
            made[name] = get_sandbox(name)
            ready = getattr(made[name], "ready", None)
            if callable(ready):
                ready()  # build or find the docker image once, outside any case's time bound
        return made[name]

    return get


OPERATOR_KEY = "convgrade-hostile-secret"  # also in submissions/session_keyring.py


@pytest.fixture(scope="session")
def operator_key():
    """A key in a session keyring of this test process, as an operator's login session has
    one: a worker must not inherit it across setuid (session_keyring.py reads it)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    keyctl, add_key = 250, 248  # x86-64; elsewhere the case only loses its planted key
    libc.syscall(keyctl, 1, b"convgrade-hostile-session")  # KEYCTL_JOIN_SESSION_KEYRING
    key = libc.syscall(add_key, b"user", OPERATOR_KEY.encode(), b"LEAKED operator secret", 22, -3)
    yield key
    if key > 0:
        libc.syscall(keyctl, 21, key)  # KEYCTL_INVALIDATE


@pytest.fixture(scope="session")
def abstract_listener():
    """An abstract AF_UNIX socket on the host (abstract_socket.py tries to reach it)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind("\0convgrade-hostile-rendezvous")
    except OSError:  # another run of this suite holds it: the case still tests the same
        listener.close()
        yield None
        return
    listener.listen()
    yield listener
    listener.close()


@pytest.fixture
def hostile_env(monkeypatch, private_tmp, seed_decoy, loopback_listener, other_students, operator_key,
                abstract_listener):
    """Redirect the grader's temporary files and record the private uid pairs it picks."""
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    picked: list[int] = []
    for module_name in ("grader.sandbox.process", "grader.sandbox.docker"):
        if module_name.endswith("docker") and not HAVE_DOCKER_BACKEND:
            continue
        module = importlib.import_module(module_name)
        if hasattr(module, "private_uid_pair"):
            original = module.private_uid_pair

            def recording(slot=0, original=original):
                uid = original(slot)
                picked.append(uid)
                return uid

            monkeypatch.setattr(module, "private_uid_pair", recording)
    return {"tmp": private_tmp, "uids": picked, "listener": loopback_listener}


# -- what must hold after every grading ----------------------------------------------------


def watched_dirs(private_tmp: Path) -> list[Path]:
    dirs = [Path(p) for p in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/etc", "/opt")]
    dirs += [PROJECT, PROJECT / "out", PROJECT / "grader", PROJECT / "grader" / "harness", PROJECT / "reference",
             PROJECT / "tests", Path.home(), Path.cwd(), private_tmp, private_tmp.parent]
    dirs += [Path(p) for p in site.getsitepackages()]
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def traces(private_tmp: Path) -> set[str]:
    """Files an attack may have left: canaries, forged results, disk fillers."""
    found = set()
    for folder in watched_dirs(private_tmp):
        for pattern in ("hostile-canary*", "results.json", "hostile-fill-*"):
            found.update(glob.glob(str(folder / pattern)))
    return found


def processes_of(uids: set[int]) -> list[str]:
    left = []
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) in uids:
                            left.append(status.split("/")[2])
                        break
        except (OSError, ValueError):
            pass
    return left


def in_uid_range(uid: int) -> bool:
    return UID_RANGE[0] <= uid < UID_RANGE[1] + 2


def sockets_in_uid_range() -> list[str]:
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 7 and in_uid_range(int(fields[7])):
                found.append(f"{table}: {line.strip()}")
    return found


def ipc_in_uid_range() -> list[str]:
    found = []
    for kind in ("shm", "msg", "sem"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        header = lines[0].split()
        for line in lines[1:]:
            fields = line.split()
            owners = {int(fields[header.index(name)]) for name in ("uid", "cuid") if name in header}
            if any(in_uid_range(uid) for uid in owners):
                found.append(f"{kind}: {line.strip()}")
    return found


def port_listening_on_host(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        if probe.connect_ex(("127.0.0.1", port)) != 0:
            return False
        # Linux lets a loopback connect pick the destination's own number as its source port
        # and then connects the socket to itself (TCP simultaneous open): about once in
        # 28,000 probes there is no listener at all. A fresh-clone run met it.
        return probe.getsockname() != probe.getpeername()


def assert_nothing_left(env, before: set[str]) -> None:
    pairs = {uid + i for uid in env["uids"] for i in (0, 1)}  # empty when no sandbox ran (unloadable)
    give_up = time.monotonic() + 5
    while (left := processes_of(pairs)) and time.monotonic() < give_up:
        time.sleep(0.1)  # a container's teardown may still be under way
    assert not left, f"processes of the private uids {sorted(pairs)} left: {left}"
    runs = [p.name for p in env["tmp"].iterdir() if p.name.startswith("convgrade-")]
    assert not runs, f"temporary folders left behind: {runs}"
    appeared = traces(env["tmp"]) - before
    assert not appeared, f"files written outside the sandbox's scratch: {sorted(appeared)}"
    assert not sockets_in_uid_range(), f"sockets of the private uid range: {sockets_in_uid_range()}"
    assert not ipc_in_uid_range(), f"System V IPC objects of the private uid range: {ipc_in_uid_range()}"
    assert not port_listening_on_host(LEFT_LISTENING_PORT), f"port {LEFT_LISTENING_PORT} listens on the host"


# -- extra checks named by expectations --------------------------------------------------------


def _output_capped(result, env, config):
    limit = config.limits.output_bytes
    assert len(result.student_output.encode()) < 2 * limit + 1024, len(result.student_output)


def _listener_untouched(result, env, config):
    listener = env["listener"]
    if listener is None:
        pytest.skip(f"ports {LISTEN_PORTS} were all taken on the host; the loopback part was not tested")
    with pytest.raises(BlockingIOError):
        listener.accept()


def _messages_bounded(result, env, config):
    longest = max(len(c.message) for c in result.checks)
    assert longest < 20_000, f"a check message of {longest} characters"


def _notebook_canary_survives(result, env, config):
    canaries = glob.glob(str(env["tmp"] / "*" / "canary" / NOTEBOOK_CANARY))
    assert canaries, "the notebook's canary file was deleted"


def _blames_forward_only(result, env, config):
    message = next(c.message for c in result.checks if c.id == "inputs-unchanged")
    assert "conv_backward_naive" not in message, f"backward blamed for forward's change: {message[:400]}"


def _inputs_message(result) -> str:
    return next(c.message for c in result.checks if c.id == "inputs-unchanged")


def _conv_param_change_shown(result, env, config):
    message = _inputs_message(result)
    assert "conv_forward_naive changed its input conv_param" in message and "not scored" in message, message


def _conv_param_change_hidden(result, env, config):
    assert _inputs_message(result) == "no call changed its inputs", _inputs_message(result)


def _notebook_class_body_not_run(result, env, config):
    assert "RAN AT IMPORT" not in result.student_output, result.student_output[:500]
    assert any(note.startswith("notebook: dropped cell 3, line 1, `class Recorder:`: line 2 of its body: runs code "
                               "at import (exec(") for note in result.notes), result.notes


def _serialisable(result, env, config):
    """The result writes as UTF-8 (a lone surrogate would raise here, as it crashed grade-all)."""
    document = result.model_dump_json()
    document.encode("utf-8")


def _no_control_characters(result, env, config):
    """Nothing in the result can move a terminal's cursor or clear its screen."""
    document = json.dumps(result.model_dump(mode="json"), ensure_ascii=False)
    for char in ("\x1b", "\r", "\x07"):
        assert char not in document, f"{char!r} in the result"


def _runtime_calls(result) -> set:
    return {(u.function, u.call, u.file, u.line) for u in result.integrity.uses if u.how == "run time"}


def _line_of(result, text: str) -> int:
    lines = (SUBMISSIONS / result.submission.entry).read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def _forward_zeroed_for(result, call: str, at: str) -> None:
    """policy "zero" gave the forward 0 on the run-time watch's evidence: the call by its public
    name, at the student's line that made it, and nothing else at run time."""
    integrity = result.integrity
    assert integrity is not None and integrity.zeroed == ["forward"], integrity
    assert _runtime_calls(result) == {("forward", call, result.submission.entry, _line_of(result, at))}, integrity.uses
    assert integrity.hook_tampering == []


def _forward_zeroed_for_as_strided(result, env, config):
    _forward_zeroed_for(result, "numpy.lib.stride_tricks.as_strided", "as_strided(x_pad")


def _forward_zeroed_for_sliding_window(result, env, config):
    # sliding_window_view's own call of as_strided is inside the library: not the student's
    _forward_zeroed_for(result, "numpy.lib.stride_tricks.sliding_window_view", "sliding_window_view(x_pad")


def _forward_zeroed_statically(result, env, config):
    """The static check finished on the deep file and attributed the call to the forward."""
    statics = {(u.function, u.call, u.line) for u in result.integrity.uses if u.how == "static"}
    assert ("forward", "numpy.lib.stride_tricks.as_strided", _line_of(result, "as_strided(x_pad")) in statics, statics
    assert result.integrity.zeroed == ["forward"]


def _hook_marked(result, config, what: str) -> None:
    from grader.grading.result import HookTampering

    integrity = result.integrity
    forward_calls = sum(case.calls.count("forward") for case in
                        conv2d.notebook_cases() + conv2d.hidden_cases(SEED, config.hidden_cases))
    assert integrity is not None and integrity.hook_tampering == [
        HookTampering(function="forward", what=what, calls=forward_calls)], integrity
    assert _runtime_calls(result) == set() and integrity.zeroed == []  # unseen: marked, not scored


def _hook_removed_marked(result, env, config):
    _hook_marked(result, config, "removed")


def _hook_replaced_marked(result, env, config):
    _hook_marked(result, config, "replaced")


def _board_shows_only_the_type(result, env, config):
    """The public board (JSON, Markdown, HTML) says which type was raised, never its message."""
    from grader.publish.class_outputs import OutputOptions, class_outputs

    outputs = class_outputs([result], OutputOptions(hide_unranked_scores=True))
    reason = json.loads(outputs["leaderboard.json"])["entries"][0]["reason"]
    assert reason == "importing lying_exception_at_import.py failed: lying_exception_at_import.CopyNotice", reason
    for name in ("leaderboard.json", "leaderboard.md", "leaderboard.html"):
        assert "alice" not in outputs[name], name


EXTRA_CHECKS = {"notebook_class_body_not_run": _notebook_class_body_not_run, "serialisable": _serialisable, "no_control_characters": _no_control_characters,
                "blames_forward_only": _blames_forward_only, "output_capped": _output_capped, "listener_untouched": _listener_untouched,
                "messages_bounded": _messages_bounded,
                "conv_param_change_shown": _conv_param_change_shown, "conv_param_change_hidden": _conv_param_change_hidden, "notebook_canary_survives": _notebook_canary_survives,
                "forward_zeroed_for_as_strided": _forward_zeroed_for_as_strided,
                "forward_zeroed_for_sliding_window": _forward_zeroed_for_sliding_window,
                "forward_zeroed_statically": _forward_zeroed_statically,
                "hook_removed_marked": _hook_removed_marked, "hook_replaced_marked": _hook_replaced_marked,
                "board_shows_only_the_type": _board_shows_only_the_type}


# -- the tests ---------------------------------------------------------------------------------


def stage(case: str, folder: Path) -> Path:
    """The submission as a grader finds it: a file outside the project (so the grading
    itself hides it), named after the case."""
    folder.mkdir(parents=True, exist_ok=True)
    if case in ARCHIVES:
        return build_archive(case, folder)
    path = folder / f"{case}.py"
    shutil.copy(SUBMISSIONS / f"{case}.py", path)
    return path


def grade(case: str, backend: str, config: GradingConfig, env, sandboxes, *, folder: Path | None = None):
    path = stage(case, folder or env["tmp"] / f"case-{case}-{backend}")
    before = traces(env["tmp"])
    started = time.monotonic()
    result = grade_submission(path, sandboxes(backend), config, seed=SEED, placement=Placement(hide_paths=(OTHERS_DIR,)))
    elapsed = time.monotonic() - started
    document = result.model_dump(mode="json")
    jsonschema.validate(document, SCHEMA)
    assert result.gradable, f"a hostile submission made the grader fail: {result.failure}"
    assert "LEAKED" not in json.dumps(document), "the submission escaped: " + result.student_output[:2000]
    assert_nothing_left(env, before)
    return result, elapsed


# Cases that attack the harness's own checks and protocol (the values, replies and messages a worker
# sends back, and arguments changed in place) run the same harness code whichever backend holds the
# worker, and the archives refused by the loader never reach a backend: the process backend alone
# grades them. Every case that meets a boundary the backends enforce each their own way (time,
# memory, files, processes, output, the network, snooping, timing) runs on both.
SAME_CODE_ON_EVERY_BACKEND = {
    "ndarray_subclass", "lying_object", "returns_list", "returns_none", "returns_nan", "returns_inf",
    "object_array", "complex_array", "wrong_shape", "byteswapped_array", "tuple_too_long", "backward_tuple_short",
    "patch_numpy_compare", "mutate_x", "mutate_conv_param", "hide_conv_param_change", "mutate_dout",
    "forge_reply_shape_overflow", "forge_reply_error_fields", "forge_reply_extra_labels", "forge_reply_missing_label",
    "forge_reply_changed_args", "forge_reply_deep_json", "exit_after_reply", "hang_on_forget", "forge_ready_message",
    "forge_ready_in_call",
    "lying_exception_at_import",  # the harness words the import failure; the board is built on the host
    "deeply_nested_source",  # the static check runs on the host
} | {case for case, expect in CASES if not expect.loaded}


def case_params():
    for backend in BACKENDS:
        for case, expect in CASES:
            if backend.values[0] == "process" or case not in SAME_CODE_ON_EVERY_BACKEND:
                yield pytest.param(case, expect, backend.values[0], id=f"{case}-{backend.id}", marks=backend.marks)


@pytest.mark.parametrize(("case", "expect", "backend"), list(case_params()))
def test_hostile_submission(case, expect, backend, hostile_config, hostile_env, sandboxes):
    hostile_config = case_config(hostile_config, expect)
    result, elapsed = grade(case, backend, hostile_config, hostile_env, sandboxes)
    if expect.loaded:
        assert hostile_env["uids"], "no private uid pair was recorded: the leftover-process check would prove nothing"
    failed = {c.id: c.message for c in result.checks if c.status.value == "failed"}
    unearned = unearned_properties(hostile_config, expect)
    expected_failures = {c.id for c in result.checks if expect.failing(c.id)} | unearned
    assert set(failed) == expected_failures, (
        f"failed checks differ: unexpected {sorted(set(failed) - expected_failures)}, "
        f"expected to fail {sorted(expected_failures - set(failed))}; messages: "
        + "; ".join(f"{k}: {v[:200]}" for k, v in list(failed.items())[:3]))
    assert message_problems(failed, expect, unearned) == []
    assert result.score == pytest.approx(expected_score(hostile_config, expect), abs=1e-6), result.score
    assert result.max_score == pytest.approx(100.0)
    if not expect.loaded or expect.fails == "all":
        assert result.failure is not None and result.failure.kind.value == "student"
    for timing in result.timing:
        wanted = expect.timing_for(timing.call)
        if wanted == "measured":
            assert timing.measured, f"{timing.function} not timed: {timing.reason}"
            if expect.max_speedup is not None:
                assert timing.speedup_vs_reference < expect.max_speedup, (timing.function, timing.speedup_vs_reference)
        else:
            assert not timing.measured and wanted in (timing.reason or ""), (timing.function, timing.reason)
    if expect.output:
        assert expect.output in result.student_output, result.student_output[:1000]
    for name in expect.checks:
        EXTRA_CHECKS[name](result, hostile_env, hostile_config)
    assert elapsed < expect.max_s, f"grading took {elapsed:.1f} s (bound {expect.max_s} s)"


# (trick, the same code without the trick): timed alternately on the notebook's speed cell,
# the trick must not come out more than TRICK_MARGIN faster than its twin.
TIMING_TRICKS = [
    # burns the shared core from a signal handler while the reference is timed (the
    # worker is held stopped between its calls)
    ("steal_reference_cpu", "steal_reference_cpu_twin"),
    # builds its outputs in the shared region, skipping a copy (the harness reads them
    # from the worker's memory: nobody copies)
    ("output_in_arena", "output_in_arena_twin"),
    # leaves a transpose and a byte swap to the copy-out (made on the worker's clock)
    ("copy_out_does_work", "copy_out_does_work_twin"),
    # sleeps in every call (CPU time: blocking is neither charged nor a gain)
    ("sleep_in_call", "honest_control"),
    # an io_uring kernel polling thread (refused, or charged to the student)
    ("io_uring_sqpoll", "honest_control"),
    # thrashes the caches between its reply and its next request, before the reference runs
    ("evict_caches_after_reply", "steal_reference_cpu_twin"),
    # a costly first call at the timed size, so that the plan times it in runs of one
    ("slow_first_speed_call", "honest_control"),
]
TRICK_MARGIN = 1.1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("trick", "twin"), [pytest.param(t, w, id=t) for t, w in TIMING_TRICKS])
def test_timing_tricks_do_not_pay(trick, twin, backend, hostile_config, hostile_env, sandboxes):
    """Each trick, timed on the notebook's speed cell alternately with the same code without
    it (A B B A), must come out no more than 10% faster than the twin; the issue's target
    (at most 5%, on a quiet machine) is measured by ``make bench-tricks``."""
    config = GradingConfig(
        hidden_cases=1,
        timing=TimingSettings(size="speed-cell", budget_s=0.5, min_trials=5, max_trials=10, warmup_s=0.0, pairs=2),
        limits=hostile_config.limits,
    )
    speedups = {trick: [], twin: []}
    # A grading not counted first: each counted one then follows another grading, as in the
    # A B B A order all but the first did, so whatever a grading leaves behind (on a long
    # suite's machine it slowed the next one) weighs on both sides alike.
    grade(twin, backend, config, hostile_env, sandboxes, folder=hostile_env["tmp"] / f"trick-{backend}-{twin}-first")
    for case in (trick, twin, twin, trick):
        result, _ = grade(case, backend, config, hostile_env, sandboxes,
                          folder=hostile_env["tmp"] / f"trick-{backend}-{case}-{len(speedups[case])}")
        assert result.score == pytest.approx(100.0)
        assert all(t.measured for t in result.timing), [t.reason for t in result.timing]
        speedups[case].append({t.call: t.speedup_vs_reference for t in result.timing})
    for function in ("forward", "backward"):
        attack = sum(s[function] for s in speedups[trick]) / 2
        honest = sum(s[function] for s in speedups[twin]) / 2
        assert attack < TRICK_MARGIN * honest, (
            f"{function}: the trick measured {attack:.3g}x, the same code without it {honest:.3g}x")


@pytest.mark.parametrize("backend", BACKENDS)
def test_scipy_imports_where_the_course_allows_it(backend, hostile_config, hostile_env, sandboxes):
    """import_scipy.py with scipy in the configuration's `packages`: it imports, and its
    scipy-based forward is right (100). Nothing else joins it: pydantic still does not import.
    (The docker backend builds an image that installs the course's packages: its context
    holds their wheels, at the versions installed in the grader's environment.)"""
    config = hostile_config.model_copy(update={"packages": ["scipy"]})
    result, _ = grade("import_scipy", backend, config, hostile_env, sandboxes,
                      folder=hostile_env["tmp"] / f"allowed-scipy-{backend}")
    assert result.score == pytest.approx(100.0), [c.message[:300] for c in result.checks if c.status.value == "failed"]
    result, _ = grade("import_pydantic", backend, config, hostile_env, sandboxes,
                      folder=hostile_env["tmp"] / f"allowed-scipy-not-pydantic-{backend}")
    assert result.score == 0 and NOT_INSTALLED.format("pydantic") in result.failure.message


def test_seed_decoy_is_readable_outside_the_sandbox(seed_decoy):
    """Control for snoop_seed: on the host, any user can read the decoy's command line, so
    only the sandbox's private /proc keeps the seed from the student."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with open(f"/proc/{seed_decoy.pid}/cmdline", "rb") as f:
                os._exit(0 if str(SEED).encode() in f.read() else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_other_students_file_is_readable_on_the_host(other_students):
    """Control for read_other_students, snoop_files and steal_reference_copies: outside the
    sandbox, alice.py and the decoy reference are readable by anyone."""
    for path in (other_students / "alice.py", other_students / "reference" / "strided.py"):
        assert path.stat().st_mode & stat.S_IROTH
    assert other_students.stat().st_mode & stat.S_IXOTH
    assert "def conv_forward" in (other_students / "reference" / "strided.py").read_text()


def test_every_submission_is_in_the_table_and_documented():
    names = {p.stem for p in SUBMISSIONS.glob("*.py")}
    table = {case for case, _ in CASES}
    assert names - table == set(), f"submissions without an expectation: {sorted(names - table)}"
    assert table - names - ARCHIVES == set(), f"table entries without a file: {sorted(table - names - ARCHIVES)}"
    for path in SUBMISSIONS.glob("*.py"):
        text = path.read_text()
        assert text.startswith('"""') and "Expected" in text.split('"""')[1], f"{path.name}: no docstring with 'Expected'"


def test_orphans_die_with_the_harness(hostile_config, hostile_env, sandboxes, monkeypatch):
    """orphan_worker.py clears its parent-death signal and spins in forward. The host then
    kills the harness (a host deadline shorter than the harness's own): every worker must
    die with it, whatever session it is in (the harness is process 1 of a PID namespace)."""
    sandbox = sandboxes("process")
    real_run = sandbox.run
    monkeypatch.setattr(sandbox, "run", lambda job: real_run(dataclasses.replace(job, deadline_s=4.0)))
    path = stage("orphan_worker", hostile_env["tmp"] / "orphan")
    result = grade_submission(path, sandbox, hostile_config, seed=SEED, placement=Placement(hide_paths=(OTHERS_DIR,)))
    assert not result.gradable and "no report within 4" in result.failure.message, result.failure
    pairs = {uid + i for uid in hostile_env["uids"] for i in (0, 1)}
    assert pairs
    give_up = time.monotonic() + 5
    while (left := processes_of(pairs)) and time.monotonic() < give_up:
        time.sleep(0.1)
    assert not left, f"workers outlived the killed harness: {left}"


def _lines_within(processes, seconds: float) -> dict:
    """{process: int of the line it printed} for those that printed one within ``seconds``."""
    import selectors

    selector = selectors.DefaultSelector()
    for process in processes:
        selector.register(process.stdout, selectors.EVENT_READ, process)
    printed, give_up = {}, time.monotonic() + seconds
    while len(printed) < len(processes) and (left := give_up - time.monotonic()) > 0:
        for key, _ in selector.select(min(left, 1.0)):
            printed[key.data] = int(key.data.stdout.readline())
            selector.unregister(key.fileobj)
        if printed and not selector.select(3.0):
            break  # the rest are waiting for a base
    selector.close()
    return printed


def test_uid_bases_are_claimed_host_wide():
    """Concurrent grader processes never share a private uid base: as many processes as
    there are bases each hold a different one, and one more waits for a base to be free."""
    from grader.sandbox import base

    count = (base.UID_RANGE[1] - base.UID_RANGE[0]) // (2 * base.MAX_SLOTS)
    claim = ("import sys; from grader.sandbox.base import private_uid_pair; "
             "print(private_uid_pair(0), flush=True); sys.stdin.read()")
    holders = [subprocess.Popen([sys.executable, "-c", claim], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                cwd=PROJECT, text=True) for _ in range(count + 1)]
    try:
        claimed = _lines_within(holders, 15.0)
        # Other graders on this machine may hold bases too: then more of ours wait. What
        # must never happen is two live processes printing the same base.
        assert len(set(claimed.values())) == len(claimed), sorted(claimed.values())
        waiting = [h for h in holders if h not in claimed]
        assert waiting, "more processes than uid bases, and none waits"
        first = next(iter(claimed))
        first.stdin.close()  # it exits; its base is free again, for exactly one waiting process
        first.wait(timeout=10)
        freed = _lines_within(waiting, 10.0)
        assert list(freed.values()) == [claimed[first]], freed
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()


def test_a_lone_surrogate_does_not_break_grade_all(tmp_path, hostile_config):
    """In grade-all, the student whose messages hold lone surrogates is graded and written
    like any other; the students after it are graded and the leaderboard is written."""
    from click.testing import CliRunner

    from grader.cli import cli

    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(SUBMISSIONS / "lone_surrogate_message.py", folder / "aaa_surrogate.py")
    shutil.copy(SUBMISSIONS / "honest_control.py", folder / "zzz_honest.py")
    config = tmp_path / "config.json"
    config.write_text(GradingConfig(hidden_cases=1, timing=TimingSettings(enabled=False),
                                    limits=hostile_config.limits).model_dump_json())
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["grade-all", str(folder), "--out", str(out), "--config", str(config),
                                      "--jobs", "1", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "2 students: 2 graded" in result.output, result.output
    surrogate = json.loads((out / "results" / "aaa_surrogate.json").read_text())
    assert surrogate["gradable"] and "broken \ufffd" in json.dumps(surrogate, ensure_ascii=False)
    assert json.loads((out / "results" / "zzz_honest.json").read_text())["score"] == pytest.approx(100.0)
    assert (out / "leaderboard.json").is_file()


@pytest.mark.parametrize("backend", BACKENDS)
def test_multibyte_messages_stay_inside_the_report_cap(backend, hostile_config, hostile_env, sandboxes):
    """emoji_flood_messages.py, graded with ten hidden cases: every check's message is as
    long as the harness lets a student make it, in characters that take 12 bytes each in
    the report. Caps that counted characters let the report outgrow the host's 4 MiB cap
    (NOT GRADABLE); one byte budget keeps it gradable and every message bounded."""
    config = GradingConfig(hidden_cases=10, timing=TimingSettings(enabled=False), limits=hostile_config.limits)
    result, _ = grade("emoji_flood_messages", backend, config, hostile_env, sandboxes,
                      folder=hostile_env["tmp"] / f"emoji-ten-{backend}")
    failed = [c for c in result.checks if c.status.value == "failed" and c.call != "all"]
    assert failed and all("FloodError" in c.message for c in failed), [c.message[:160] for c in failed if "FloodError" not in c.message][:3]
    assert len(result.model_dump_json().encode()) < 3 * MiB


# The cases whose bound is the disk cap's budget on the rungs without a size-capped tmpfs.
DISK_BUDGET_CASES = ("disk_fill", "fallocate_keep_size")


@pytest.mark.skipif(shutil.which("capsh") is None and not os.environ.get("CI"), reason="capsh (libcap2-bin) is missing")
@pytest.mark.parametrize("case", DISK_BUDGET_CASES)
def test_disk_budget_cases_without_cap_sys_admin_get_the_full_privilege_verdict(case, tmp_path):
    """The private-uids rung on this host (root without CAP_SYS_ADMIN, as in a default Docker
    container or on Gradescope): no size-capped tmpfs, so the disk cap's budget must give the
    same ENOSPC inside the student's process: the same failing check, message and score.
    (Both lower rungs in a default-capability container: tests/docker.)"""
    command = f"{shlex.quote(sys.executable)} -B {shlex.quote(str(HERE / 'verdicts.py'))} --cases {case}"
    done = subprocess.run(["capsh", "--drop=cap_sys_admin", "--", "-c", command], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    verdict = json.loads(done.stdout.splitlines()[-1]) if done.stdout.strip() else {"problems": [done.stderr[-2000:]]}
    assert verdict.get("ok"), verdict["problems"]
    assert verdict["isolation"] == "private-uids"
    assert any(item.startswith("a disk budget of 32 MiB") for item in verdict["has"]), verdict["has"]


PLAIN_USER = 65534  # nobody
PLAIN_USER_CASES = ("locked_scratch_folder", *DISK_BUDGET_CASES)


def _plain_user(*command: str) -> list[str]:
    return ["setpriv", f"--reuid={PLAIN_USER}", f"--regid={PLAIN_USER}", "--clear-groups", *command]


PROBE = ("import subprocess, sys; sys.exit(subprocess.run([sys.executable, '-c', "
         "'import numpy, grader.harness']).returncode)")
# What verdicts.py needs of a checkout, copied where a plain user can read it.
CHECKOUT_PARTS = ("grader", "reference", "tests", "submissions", "schemas")
# What verdicts.py imports, at this environment's versions, for an interpreter made for a plain user.
VERDICT_PACKAGES = ("numpy", "pydantic", "jsonschema", "docker", "click", "tqdm", "threadpoolctl", "distributed",
                    "pytest")


def _runs_as_plain_user(python: str, checkout: Path) -> bool:
    probe = subprocess.run(_plain_user(python, "-c", PROBE), capture_output=True, cwd="/", timeout=60,
                           env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout)})
    return probe.returncode == 0


def _world_runnable_python() -> str | None:
    """The system's Python of this version, if a plain user can run it and make a venv with it
    (a venv of ours usually is not runnable: its interpreter may live under root's home)."""
    for candidate in (f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}", "/usr/bin/python3"):
        if os.path.exists(candidate) and subprocess.run(_plain_user(candidate, "-c", "import venv, ensurepip"),
                                                        capture_output=True, cwd="/", timeout=60).returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def plain_user_python():
    """(interpreter, checkout) a plain user can run verdicts.py with: this interpreter and this
    checkout when a plain user may run them (or CONVGRADE_PLAIN_USER_PYTHON), else a venv made
    here from the system's Python with this environment's package versions and a copy of the
    checkout, both in a folder everyone may read. Skipped only outside CI."""
    python = os.environ.get("CONVGRADE_PLAIN_USER_PYTHON", sys.executable)
    if _runs_as_plain_user(python, PROJECT):
        yield python, PROJECT
        return
    base = _world_runnable_python()
    reason = "no system Python with venv that a plain user can run"
    if base is not None:
        folder = Path(tempfile.mkdtemp(prefix="hostile-plain-python-", dir="/tmp"))
        try:
            made = _plain_user_venv(base, folder)
            if made is not None:
                yield made
                return
            reason = "a venv for a plain user could not be made (pip install failed, or the copy does not import)"
        finally:
            shutil.rmtree(folder)  # made here, holds no mount
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _plain_user_venv(base: str, folder: Path) -> tuple[str, Path] | None:
    subprocess.run([base, "-m", "venv", str(folder / "venv")], check=True, capture_output=True, timeout=300)
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in VERDICT_PACKAGES]
    installed = subprocess.run([str(folder / "venv" / "bin" / "pip"), "install", "--quiet",
                                "--disable-pip-version-check", *pins], capture_output=True, timeout=600)
    checkout = folder / "checkout"
    for part in CHECKOUT_PARTS:
        shutil.copytree(PROJECT / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
    # The grader starts its harness as `python -s -m grader.harness`: the copy must be importable.
    site_packages = next((folder / "venv" / "lib").glob("python3*/site-packages"))
    (site_packages / "convgrade-checkout.pth").write_text(f"{checkout}\n")
    subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
    python = str(folder / "venv" / "bin" / "python")
    return (python, checkout) if installed.returncode == 0 and _runs_as_plain_user(python, checkout) else None


@pytest.mark.skipif(shutil.which("setpriv") is None and not os.environ.get("CI"),
                    reason="setpriv (util-linux) is missing")
@pytest.mark.parametrize("case", PLAIN_USER_CASES)
def test_plain_user_gets_the_full_privilege_verdict_and_leaves_nothing(case, plain_user_python):
    """The lowest rung on this host (not root: the student runs under the grader's own uid,
    no tmpfs, the disk cap's budget): the same verdict as with full privileges, and nothing
    of the grading left in its temporary folder (verdicts.py checks it), however the student
    locked its folders. (The same in a default-capability container: tests/docker.)"""
    python, checkout = plain_user_python
    home = Path(tempfile.mkdtemp(prefix="hostile-plain-user-", dir="/tmp"))
    os.chown(home, PLAIN_USER, PLAIN_USER)
    try:
        done = subprocess.run(_plain_user(python, "-B", str(checkout / "tests" / "hostile" / "verdicts.py"),
                                          "--cases", case),
                              capture_output=True, text=True, timeout=180, cwd=home,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                                   "HOME": str(home), "TMPDIR": str(home)})  # nothing of this root's session
    finally:
        subprocess.run(["rm", "-rf", str(home)], check=True)
    verdict = json.loads(done.stdout.splitlines()[-1]) if done.stdout.strip() else {"problems": [done.stderr[-2000:]]}
    assert verdict.get("ok"), verdict["problems"]
    assert verdict["isolation"] == "user"
    assert any(item.startswith("a disk budget of 32 MiB") for item in verdict["has"]), verdict["has"]


@pytest.fixture
def small_disk(request):
    """A small file system (tmpfs, of request.param MiB) for the grader's temporary files, so
    that "the disk" can be full; the gradings run without CAP_SYS_ADMIN, on the disk budget."""
    mount = Path(tempfile.mkdtemp(prefix="hostile-small-disk-", dir="/tmp"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={request.param}m,mode=1777", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)
        mount.rmdir()


def _without_cap_sys_admin(script: str, tmpdir: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["capsh", "--drop=cap_sys_admin", "--", "-c", script], capture_output=True, text=True,
                          timeout=240, cwd=cwd, env={**os.environ, "TMPDIR": str(tmpdir)})


# The disk budget of HOSTILE (32 MiB) and the grader's reserve (disk_cap.RESERVE_BYTES, 64 MiB).
BUDGET_AND_RESERVE_MIB = 32 + 64
DISK_LOW = "not gradable: not gradable (the grader failed, not the submission): process: harness failed: "


@pytest.mark.skipif(shutil.which("capsh") is None and not os.environ.get("CI"), reason="capsh (libcap2-bin) is missing")
@pytest.mark.parametrize("small_disk", [BUDGET_AND_RESERVE_MIB - 16], indirect=True)
def test_a_disk_without_room_for_a_grading_is_the_graders_problem(small_disk, tmp_path):
    """Less free space than the student's budget and the grader's reserve: not gradable, with
    a message that says so (never a zero, never a student's check failing for it)."""
    command = f"{shlex.quote(sys.executable)} -B {shlex.quote(str(HERE / 'verdicts.py'))} --cases honest_control"
    done = _without_cap_sys_admin(command, small_disk, tmp_path)
    verdict = json.loads(done.stdout.splitlines()[-1]) if done.stdout.strip() else {"problems": [done.stderr[-2000:]]}
    assert verdict["problems"][0].startswith(
        f"{DISK_LOW}not enough free disk for a grading: the file system of {small_disk}/"), verdict["problems"]
    assert re.search(rf" has \d+ MiB free, a grading needs {BUDGET_AND_RESERVE_MIB} MiB \(the student's disk budget",
                     verdict["problems"][0]), verdict["problems"]


TWO_AT_ONCE = """
import json, sys, threading
from pathlib import Path
sys.path[:0] = [{checkout!r}, {tests!r}, {here!r}]
import verdicts
from grader.grading.grade import grade_submission
from grader.sandbox import get_sandbox
from grader.sandbox.placement import Placement

sandbox, results = get_sandbox("process"), {{}}


def grade(slot):
    path = verdicts.hostile.stage("disk_fill", Path({folder!r}) / f"student-{{slot}}")
    result = grade_submission(path, sandbox, verdicts.HOSTILE, seed=verdicts.hostile.SEED,
                              placement=Placement(slot=slot))
    results[slot] = {{"gradable": result.gradable, "score": result.score,
                     "failure": result.failure.message if result.failure else "",
                     "failed": {{c.id: c.message for c in result.checks if c.status.value == "failed"}}}}


threads = [threading.Thread(target=grade, args=(slot,)) for slot in (0, 1)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(results))
"""


@pytest.mark.skipif(shutil.which("capsh") is None and not os.environ.get("CI"), reason="capsh (libcap2-bin) is missing")
@pytest.mark.parametrize("small_disk", [BUDGET_AND_RESERVE_MIB + 16], indirect=True)
def test_two_disk_fills_sharing_a_full_disk_never_eat_the_graders_reserve(small_disk, tmp_path):
    """disk_fill graded twice at once on a disk with room for one budget and the reserve: each
    grading gets disk_fill's own verdict (score 90, ENOSPC at its budget) or is not gradable
    because of the disk (before it started, or because a write within its budget was refused
    to keep the reserve). Both within budget would have left the grader less than its reserve."""
    script = TWO_AT_ONCE.format(checkout=str(PROJECT), tests=str(PROJECT / "tests"), here=str(HERE),
                                folder=str(tmp_path))
    done = _without_cap_sys_admin(f"{shlex.quote(sys.executable)} -B -c {shlex.quote(script)}", small_disk, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.splitlines()[-1])
    print({slot: (r["gradable"], r["score"], r["failure"][:200]) for slot, r in results.items()})  # which way each went
    graded = [r for r in results.values() if r["gradable"]]
    refused = [r for r in results.values() if not r["gradable"]]
    assert refused, "both gradings were allowed their whole budget on a disk with room for one and the reserve"
    for result in refused:
        assert result["failure"].startswith(DISK_LOW[len("not gradable: "):]) and (
            "not enough free disk for a grading" in result["failure"]
            or "the disk ran low during the grading" in result["failure"]), result["failure"][:600]
        assert result["score"] == 0
    for result in graded:
        assert result["score"] == pytest.approx(90.0) and list(result["failed"]) == ["forward/notebook-forward"]
        assert "No space left on device" in result["failed"]["forward/notebook-forward"]
