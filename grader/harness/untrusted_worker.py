"""The worker process's program: imports one module and serves calls to its functions.

Named for its side of the trust boundary: ``grader.harness.workers`` is the trusted
harness side that starts, drives and checks the processes that run this file.

This file runs in the UNTRUSTED process. Once the student's module is imported,
the student can change anything here (patch these functions, forge replies), so
nothing this process says is believed: the harness validates every reply, copies
arrays out of the arena itself, keeps its own copies of the inputs, and measures
time on its own clock. What this file does is help an honest student get precise
messages (what was returned, which exception, which line).

The same file serves the reference implementation in a second worker process, so
both sides of a timing comparison go through identical code.

Usage: python -s -S -B untrusted_worker.py '<json config>' (see ``grader.harness.workers`` for the keys).
"""

import importlib
import itertools
import json
import math
import os
import sys

import worker_paths  # first: it puts the packages this worker may import (numpy among them) on the path

CONFIG = worker_paths.set_up(sys.argv[1]) if __name__ == "__main__" else {}

import numpy as np  # noqa: E402

import call_watch  # noqa: E402
import line_feedback  # noqa: E402
import peak_gemm  # noqa: E402
import seccomp_listener  # noqa: E402
from exception_text import clip, describe_exception, type_name  # noqa: E402
from protocol import DICT_ENTRIES, TRANSFERABLE_DTYPES, Arena, align, encode_message, read_message, write_all  # noqa: E402


# Scalar results that travel as 0-d arrays: a loss is a Python float or a numpy float (what
# np.sum(...) / N gives), hardly ever a 0-d array. Exact types only, as for arrays: anything
# else (a float subclass, an int) is reported as the type it is.
SCALAR_FLOATS = (float, np.float16, np.float32, np.float64)


def _limit_blas_threads() -> None:
    # The environment already asks for one thread; threadpoolctl enforces it where present.
    try:
        threadpoolctl = worker_paths.import_worker_package("threadpoolctl", keep=False)
    except ImportError:
        return
    threadpoolctl.threadpool_limits(1)


def _same(value, original) -> bool:
    try:
        return bool(value == original)
    except Exception:  # a dict holding arrays cannot be compared plainly: it was changed
        return False


def _printable(key) -> str:
    try:
        return repr(key)
    except Exception:  # the student's own __repr__
        return f"a {type_name(key)}"


def module_name_for(root: str, entry: str) -> tuple[str, str]:
    """(sys.path entry, dotted module name) for the entry file, honouring packages.

    ``cs231n/layers.py`` inside a folder with ``cs231n/__init__.py`` is imported as
    ``cs231n.layers`` so that its relative imports work; a lone file by its stem.
    """
    parts = entry.split("/")
    parts[-1] = parts[-1][: -len(".py")]
    package_depth = 0
    while package_depth < len(parts) - 1:
        package_dir = os.path.join(root, *parts[: len(parts) - 1 - package_depth])
        if not os.path.isfile(os.path.join(package_dir, "__init__.py")):
            break
        package_depth += 1
    base = os.path.join(root, *parts[: len(parts) - 1 - package_depth])
    return base, ".".join(parts[len(parts) - 1 - package_depth :])


class Worker:
    """The student's (or the reference's) side of the protocol, in the worker process.

    It imports the module, then serves requests one at a time: build the arguments from
    the shared-memory arena, call the function, describe the results (placed in the arena,
    or left in this process's memory for the harness to read while it is stopped), and
    reply. It holds no score, timer or expected answer: everything here is untrusted.
    """

    def __init__(self, config: dict):
        self.request_fd = config["request_fd"]
        self.reply_fd = config["reply_fd"]
        self.arena = Arena(config["arena_fd"], config["arena_size"], config["request_bytes"])
        self.kept: dict[str, object] = {}
        self.functions: dict[str, object] = {}
        self.root = config["root"]
        # Outputs the harness reads straight from this process's memory, kept alive
        # until the next request (the harness reads them while this process is stopped).
        self.sent: list[np.ndarray] = []

    def send(self, message: dict) -> None:
        # What the student printed goes out first: stdout is a pipe, block-buffered, and a
        # worker is stopped with SIGKILL, which would lose whatever is still buffered.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # a closed or replaced stream is the student's business
                pass
        write_all(self.reply_fd, encode_message(message))

    def import_module(self, root: str, entry: str, names: list[str]) -> dict:
        self.root = root
        path_entry, module_name = module_name_for(root, entry)
        # Every folder from the module's up to the root, deepest first: a student's
        # `from cs231n.im2col import *` works with or without cs231n/__init__.py.
        folders = [path_entry]
        while os.path.abspath(folders[-1]) != os.path.abspath(root):
            folders.append(os.path.dirname(folders[-1]))
        sys.path[:0] = folders
        try:
            module = importlib.import_module(module_name)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt at import are the student's too
            return {"op": "ready", "ok": False, "error": describe_exception(exc, self.root), "functions": {}}
        for name in names:
            candidate = getattr(module, name, None)
            if callable(candidate):
                self.functions[name] = candidate
        return {"op": "ready", "ok": True, "functions": {name: name in self.functions for name in names}}

    # -- arguments and results -------------------------------------------------

    def build_argument(self, spec: dict):
        if "array" in spec:
            return self.arena.view(spec["array"])
        if "value" in spec:
            return json.loads(json.dumps(spec["value"]))  # a fresh copy for every call
        if "kept" in spec:
            return self.kept[spec["kept"]]
        if "tuple" in spec:
            return tuple(self.build_argument(item) for item in spec["tuple"])
        if "dict" in spec:  # plain values and arrays, all the call's own copies (it may write them)
            built = json.loads(json.dumps(spec["dict"]["values"]))
            for key, descriptor in spec["dict"]["arrays"].items():
                built[key] = self.arena.view(descriptor).copy()
            return built
        raise ValueError(f"unknown argument spec {sorted(spec)}")

    def describe_result(self, value, offset: int, direct: bool = False) -> tuple[dict, int]:
        """Describe a returned value. A plain float array is made C-contiguous and
        little-endian (here, so on this process's clock) and then either named by its
        address, for the harness to read it from this process's memory (``direct``), or
        copied into the response region."""
        if value is None:
            return {"kind": "none"}, offset
        if type(value) in SCALAR_FLOATS:
            value = np.array(value)  # a scalar result (a loss) travels as a 0-d array of its own dtype
        if type(value) is not np.ndarray:
            return {"kind": "other", "type": clip(type_name(value), 200)}, offset
        # A big-endian float64 is still a float64 answer: it travels little-endian
        # (np.copyto converts), and only the byte order the harness reads changes.
        dtype = value.dtype.newbyteorder("<") if value.dtype.kind == "f" else value.dtype
        description = {"kind": "array", "dtype": dtype.str, "dtype_name": dtype.name,
                       "shape": list(value.shape), "offset": None}
        if direct and dtype.str in TRANSFERABLE_DTYPES:
            if value.nbytes > self.arena.response_bytes:
                description["too_large"] = True
                return description, offset
            contiguous = np.ascontiguousarray(value, dtype=dtype)
            self.sent.append(contiguous)
            description["address"] = contiguous.__array_interface__["data"][0] if contiguous.nbytes else 1
            return description, offset
        offset = align(offset)
        if dtype.str in TRANSFERABLE_DTYPES and offset + value.nbytes <= self.arena.size:
            description["offset"] = offset
            np.copyto(self.arena.view(description), value)
            offset += value.nbytes
        elif dtype.str in TRANSFERABLE_DTYPES:
            description["too_large"] = True
        return description, offset

    def unpack(self, result, labels: list[str]):
        if len(labels) == 1:
            return [result], None
        if not isinstance(result, (tuple, list)) or len(result) != len(labels):
            count = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
            expected = ", ".join(label.lstrip("@") for label in labels)
            return None, f"returned {type_name(result)}{count}, expected a tuple ({expected})"
        return list(result), None

    def call(self, request: dict) -> dict:
        function = self.functions.get(request["function"])
        if function is None:
            return {"ok": False, "error": {"type": "NameError", "message": f"{request['function']} is not defined"}}
        arguments = [self.build_argument(spec) for spec in request["args"]]
        originals = [spec.get("value") for spec in request["args"]]
        observed: list = []  # forbidden calls seen by the profile hook, when the harness asks (call_watch)
        try:
            if request.get("watch"):
                result = call_watch.watched_call(function, arguments, request["watch"], self.root, observed)
            else:
                # "repeat": back-to-back calls on the same arguments (the reference's steady
                # time for the machine figures, see the harness's speed_feedback); the last counts.
                for _ in range(max(1, int(request.get("repeat") or 1))):
                    result = None  # the previous call's result is freed first, as make bench's loop frees it
                    result = function(*arguments)
        except BaseException as exc:  # the student's sys.exit() fails this call only
            return {"ok": False, "error": describe_exception(exc, self.root), "observed": observed}
        changed = [i for i, (spec, arg) in enumerate(zip(request["args"], arguments))
                   if "value" in spec and not _same(arg, originals[i])]
        values, unpack_error = self.unpack(result, request["results"])
        if unpack_error:
            return {"ok": True, "unpack_error": unpack_error, "results": {}, "changed_args": changed,
                    "observed": observed}
        described, offset = {}, self.arena.request_bytes
        for label, value in zip(request["results"], values):
            if label.startswith("@"):  # kept in this process (e.g. the cache), never sent
                self.kept[request["keep_as"]] = value
                continue
            if request.get("discard"):  # the machine figures' calls: nothing is sent (make bench copies nothing)
                continue
            described[label], offset = self.describe_result(value, offset, bool(request.get("direct")))
        dicts = {}
        if not request.get("discard"):  # a dict argument goes back as the call left it (the harness checks it)
            for index, spec in enumerate(request["args"]):
                if "dict" in spec:
                    dicts[str(index)], offset = self.describe_dict(arguments[index], offset, bool(request.get("direct")))
        return {"ok": True, "results": described, "changed_args": changed, "observed": observed, "dicts": dicts}

    def describe_dict(self, value: dict, offset: int, direct: bool) -> tuple[list, int]:
        """[[key, description], ...] of a dict argument after the call: plain values as they
        are, arrays like results, anything else by its type. At most DICT_ENTRIES entries
        (the harness refuses a dict with more)."""
        entries = []
        for key, item in itertools.islice(value.items(), DICT_ENTRIES + 1):  # the student may have added millions
            key = key if type(key) is str else f"{clip(_printable(key), 100)} (not a string)"
            # (an int past 64 bits is described by its type: JSON would spend seconds printing it)
            if item is None or type(item) in (bool, str) or (type(item) is int and abs(item) < 2**63) or \
                    (isinstance(item, float) and math.isfinite(item)):
                plain = item if type(item) is not str else clip(item, 1000)
                entries.append([key, {"kind": "value", "value": float(plain) if isinstance(plain, float) else plain}])
            elif type(item) is np.ndarray:
                description, offset = self.describe_result(item, offset, direct)
                entries.append([key, description])
            elif isinstance(item, float):
                entries.append([key, {"kind": "other", "type": f"non-finite float {item!r}"}])
            else:
                entries.append([key, {"kind": "other", "type": clip(type_name(item), 200)}])
        return entries, offset

    def profiled_call(self, request: dict) -> dict:
        """One call under the line profiler (line_feedback); its figures, no results."""
        function = self.functions.get(request["function"])
        if function is None:
            return {"ok": False, "error": {"type": "NameError", "message": f"{request['function']} is not defined"}}
        arguments = [self.build_argument(spec) for spec in request["args"]]
        figures = line_feedback.profile(function, arguments, self.root, float(request.get("budget_s", 1.0)))
        return {"ok": True, "results": {}, "changed_args": [], "profile": figures}

    def serve(self) -> None:
        while True:
            request = read_message(self.request_fd)
            self.sent = []
            op = request.get("op")
            if op == "call":
                self.send(self.call(request))
            elif op == "null":  # the same parsing and argument building as a call, and no call:
                for spec in request.get("args", []):  # the harness calibrates a call's fixed cost
                    self.build_argument(spec)
                self.send({"ok": True, "results": {}, "changed_args": []})
            elif op == "profile":  # after the timed trials: where the time goes (feedback only)
                self.send(self.profiled_call(request))
            elif op == "gemm":  # the reference worker: the core's peak at this shape (peak_gemm)
                self.send(peak_gemm.run(request["args"][0]["value"]))
            elif op == "forget":
                for slot in request.get("slots", []):
                    self.kept.pop(slot, None)
                self.send({"ok": True})
            elif op == "exit":
                return
            else:
                self.send({"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}"}})


def _not_dumpable() -> None:
    # execve made this process dumpable again: /proc/<pid>/root, mem and environ would be
    # open to any process of the same uid. Before the student's code exists; the seccomp
    # filter refuses turning it back on.
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):  # not Linux: nothing to do
        pass


def main() -> None:
    _not_dumpable()
    config = CONFIG
    _limit_blas_threads()
    # The worker's own folder must not shadow the student's modules.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p) != os.path.dirname(os.path.abspath(__file__))]
    worker = Worker(config)  # maps the arena: the disk cap's filter refuses shared file mappings after it
    if config.get("disk_cap"):  # before the student's code exists (see the harness's disk_cap)
        cap = config["disk_cap"]
        seccomp_listener.hand_over(cap["filter"], cap["seccomp_nr"], cap["socket_fd"])
    worker.send(worker.import_module(config["root"], config["entry"], config["functions"]))
    worker.serve()


if __name__ == "__main__":
    main()
