"""Reading a worker's reply: validated, size-capped, its outputs copied out of the
arena or read straight from the worker's memory (process_vm_readv, see workers).

Everything a reply holds is the student's to forge; nothing here trusts it."""

from __future__ import annotations

import ctypes
import errno
import math
import subprocess
from typing import Any

import numpy as np

from . import text as student_text
from .call_outcome import CallOutcome, Returned
from .protocol import DICT_ENTRIES, TRANSFERABLE_DTYPES, Arena, ProtocolError, decode_body
from .timing import clock_ns

_libc = ctypes.CDLL(None, use_errno=True)
_libc.process_vm_readv.restype = ctypes.c_ssize_t
_libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong,
                                   ctypes.c_ulong]


class ReplyRefused(Exception):
    """A reply that breaks the protocol (the message says how): the worker is stopped."""


class WorkerGone(Exception):
    """The worker exited between its reply and the harness reading its outputs."""


class _IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


def read_process_memory(pid: int, address: int, target: np.ndarray) -> int:
    """Copy ``target.nbytes`` bytes at ``address`` in process ``pid`` into ``target``
    (C-contiguous); returns the bytes read, or -errno."""
    local = _IOVec(target.ctypes.data, target.nbytes)
    remote = _IOVec(address, target.nbytes)
    done = _libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return done if done >= 0 else -ctypes.get_errno()


def can_read_memory_of(pid: int) -> bool:
    """Whether the kernel lets us read ``pid``'s memory: a one-byte read at address 0
    fails with EFAULT once the permission check has passed, EPERM before."""
    probe = np.zeros(1, dtype=np.uint8)
    return read_process_memory(pid, 0, probe) == -errno.EFAULT


def clean_error(error: Any) -> dict[str, Any]:
    """A worker's error report with only the expected fields, as short, clean strings
    (capped in bytes; lineno an int)."""
    error = error if isinstance(error, dict) else {}
    clean = {key: student_text.clip(str(error[key]), limit) for key, limit in (("type", 200), ("message", 4000), ("traceback", 12000),
                                                               ("filename", 200), ("text", 500)) if key in error}
    if type(error.get("lineno")) is int:
        clean["lineno"] = error["lineno"]
    return clean


def _elapsed(started: int) -> float:
    return (clock_ns() - started) / 1e9


class ReplyReader:
    """One worker's replies as outcomes, for the functions it was started with."""

    def __init__(self, functions: tuple[str, ...], arena: Arena, process: subprocess.Popen, direct_reads: bool):
        self.functions, self.arena, self.process, self.direct_reads = functions, arena, process, direct_reads

    def parse(self, body: bytes, started: int, labels: list[str], expect_ready: bool) -> CallOutcome:
        """The reply as an outcome. Raises ``WorkerGone`` when the worker died before its
        outputs were read, ``ReplyRefused`` for a reply that breaks the protocol."""
        # Everything in the reply is the student's to forge (see untrusted_worker.py): only plain,
        # size-capped values of the expected types get past here, so no reply can crash
        # the harness or bloat its report.
        try:
            reply = decode_body(body)
            if (reply.get("op") == "ready") != expect_ready:
                raise ReplyRefused("sent a 'ready' message out of turn" if not expect_ready
                                   else "did not start with a 'ready' message")
            if expect_ready:
                functions = reply.get("functions")
                functions = functions if isinstance(functions, dict) else {}
                ready = {"op": "ready", "ok": bool(reply.get("ok")),
                         "functions": {name: functions.get(name) is True for name in self.functions}}
                return CallOutcome("ok" if ready["ok"] else "raised", _elapsed(started), ready=ready,
                                   error=None if ready["ok"] else clean_error(reply.get("error")))
            feedback = {key: reply[key] for key in ("observed", "profile") if key in reply}
            if not reply.get("ok"):
                return CallOutcome("raised", _elapsed(started), error=clean_error(reply.get("error")),
                                   feedback=feedback)
            if reply.get("unpack_error"):
                return CallOutcome("bad_return", _elapsed(started),
                                   message=student_text.clip(str(reply["unpack_error"]), 500), feedback=feedback)
            sent = reply.get("results") or {}
            if not isinstance(sent, dict) or set(sent) != set(labels):
                raise ProtocolError(f"results {sorted(sent)[:4]} instead of {labels}")
            results = {label: self._returned(label, value) for label, value in sent.items()}
            dicts, refused = self._dicts(reply.get("dicts") or {})
            elapsed = _elapsed(started)  # stops only once every output is in private memory
            changed = reply.get("changed_args") or []
            return CallOutcome("ok", elapsed, results=results, feedback=feedback, dicts=dicts, dicts_refused=refused,
                               changed_args=[i for i in changed if type(i) is int and 0 <= i < 16][:16])
        except (ProtocolError, AttributeError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise ReplyRefused(f"sent a malformed reply ({str(exc)[:200]})") from exc

    def _dicts(self, sent: Any) -> tuple[dict[int, dict[str, Returned]], dict[int, str]]:
        """Each dict argument as the call left it, by argument index. Plain values pass as
        they are; arrays are copied out like results, all of a call's dict arrays together
        within the response region's size (more is marked too large, never read);
        anything else is known by its type only. A dict with more than DICT_ENTRIES
        entries is refused whole (the reason, by index)."""
        if not isinstance(sent, dict) or len(sent) > 16:
            raise ProtocolError("dicts: not an object of at most 16 arguments")
        dicts, refused = {}, {}
        room = self.arena.response_bytes
        for index_text, entries in sent.items():
            if not index_text.isdigit() or not isinstance(entries, list):
                raise ProtocolError(f"dicts: bad argument {index_text[:20]!r}")
            index = int(index_text)
            if len(entries) > DICT_ENTRIES:
                refused[index] = f"holds more than {DICT_ENTRIES} entries"
                continue
            described: dict[str, Returned] = {}
            for entry in entries:
                if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str):
                    raise ProtocolError("dicts: an entry is not a [key, description] pair")
                key = student_text.clip(entry[0], 100)
                if key in described:
                    raise ProtocolError(f"dicts: entry {key!r} twice")
                described[key] = self._dict_entry(key, entry[1], room)
                if described[key].array is not None:
                    room -= described[key].array.nbytes
            dicts[index] = described
        return dicts, refused

    def _dict_entry(self, key: str, value: Any, room: int) -> Returned:
        if not isinstance(value, dict):
            raise ProtocolError(f"{key}: not an object")
        if value.get("kind") == "value":
            plain = value.get("value")
            if plain is not None and type(plain) not in (bool, int, float, str):
                raise ProtocolError(f"{key}: a value that is not plain")
            # json.loads reads NaN, Infinity and 1e999, which the next request's
            # encode_message (allow_nan=False) could not send: an honest worker describes
            # a non-finite float as "other", so only a forged reply holds one.
            if type(plain) is float and not math.isfinite(plain):
                raise ProtocolError(f"{key}: a non-finite float")
            plain = student_text.clip(plain, 1000) if isinstance(plain, str) else plain
            return Returned("value", type_name=type(plain).__name__ if plain is not None else "None", value=plain)
        dtype, shape = value.get("dtype"), value.get("shape")
        if value.get("kind") == "array" and dtype in TRANSFERABLE_DTYPES and isinstance(shape, list) and \
                all(type(n) is int and n >= 0 for n in shape) and math.prod(shape) * np.dtype(dtype).itemsize > room:
            # Past what one call may hand back: described, never read.
            return Returned("array", dtype_name=np.dtype(dtype).name, shape=tuple(shape[:32]), too_large=True)
        return self._returned(key, value)

    def _returned(self, label: str, value: Any) -> Returned:
        if not isinstance(value, dict):
            raise ProtocolError(f"{label}: not an object")
        kind = value.get("kind")
        if kind == "none":
            return Returned("none")
        if kind == "other":
            return Returned("other", type_name=student_text.clip(str(value.get("type")), 200))
        if kind != "array":
            raise ProtocolError(f"{label}: unknown kind {kind!r}")
        shape = value.get("shape")
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError(f"{label}: bad shape")
        returned = Returned("array", dtype_name=student_text.clip(str(value.get("dtype_name")), 40), shape=tuple(shape[:32]),
                            too_large=bool(value.get("too_large")))
        if value.get("address") is not None and self.direct_reads:
            returned.array = self._read_direct(value, label)
            returned.dtype_name = returned.array.dtype.name
        elif value.get("offset") is not None:
            returned.array = self.arena.fetch_response(value, label)
            returned.dtype_name = returned.array.dtype.name
        return returned

    def _read_direct(self, descriptor: dict, label: str) -> np.ndarray:
        """Read an output from the worker's own memory (validated like an arena descriptor:
        allow-listed dtype, integer shape, a size within the response region's)."""
        dtype, shape, address = descriptor.get("dtype"), descriptor.get("shape"), descriptor.get("address")
        if dtype not in TRANSFERABLE_DTYPES:
            raise ProtocolError(f"{label}: dtype {dtype!r} is not transferable")
        if not isinstance(shape, list) or len(shape) > 8 or not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError(f"{label}: bad shape {shape!r}")
        if type(address) is not int or not 0 < address < 2**64:
            raise ProtocolError(f"{label}: bad address {address!r}")
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if nbytes > self.arena.response_bytes:
            raise ProtocolError(f"{label}: {nbytes} bytes is more than any answer needs")
        array = np.empty(shape, dtype=np.dtype(dtype))
        if nbytes and read_process_memory(self.process.pid, address, array) != nbytes:
            if self.process.poll() is not None:
                raise WorkerGone(label)
            raise ProtocolError(f"{label}: {nbytes} bytes at {address:#x} could not be read")
        return array
