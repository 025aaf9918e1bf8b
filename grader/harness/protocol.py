"""The wire between the harness and a worker: length-prefixed JSON messages on a pipe,
and arrays in a shared-memory arena.

Why shared memory: the harness times a call from the request sent to the complete
answer received. Moving a 5 MB output through a pipe costs about 2 ms on one core,
as long as the fast reference itself; copying it through shared memory costs about
0.13 ms. Only raw numbers of an allow-listed dtype cross the arena, described by
plain JSON (offset, dtype, shape): never a pickle, never an object the student built.

The arena is a sealed memfd (it cannot be shrunk, so a worker cannot make the harness
fault by truncating it). It has two regions: requests (harness writes inputs) and
responses (worker writes outputs). The harness copies every output out before it
stops the clock and never trusts the arena again afterwards.

This module is shared by both sides and uses numpy and the standard library only.
"""

from __future__ import annotations

import fcntl
import json
import math
import mmap
import os
import struct

import numpy as np

HEADER = struct.Struct(">I")
# Messages carry descriptors, error texts and tracebacks; a megabyte is generous.
MAX_MESSAGE_BYTES = 1 << 20
ALIGNMENT = 64
# Only plain little-endian real floats travel; anything else is described, not copied.
TRANSFERABLE_DTYPES = frozenset({"<f2", "<f4", "<f8"})
# Entries of a dict argument a worker describes back (bn_param holds six or so).
DICT_ENTRIES = 32


class ProtocolError(Exception):
    """The peer broke the protocol (bad framing, oversized or malformed message)."""


def encode_message(message: dict) -> bytes:
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    if len(body) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(body)} bytes exceeds the {MAX_MESSAGE_BYTES}-byte cap")
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> dict:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise ProtocolError(f"message is not JSON: {str(exc)[:200]}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("message is not a JSON object")
    return message


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes:
    """Blocking read of exactly ``size`` bytes (worker side). EOF raises EOFError."""
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, remaining)
        if not chunk:
            raise EOFError("peer closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int) -> dict:
    (size,) = HEADER.unpack(read_exact(fd, HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {size} bytes exceeds the {MAX_MESSAGE_BYTES}-byte cap")
    return decode_body(read_exact(fd, size))


def align(offset: int) -> int:
    return (offset + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


class Arena:
    """A shared byte region with a request part [0, request_bytes) and a response part after it."""

    def __init__(self, fd: int, size: int, request_bytes: int):
        self.fd = fd
        self.size = size
        self.request_bytes = request_bytes
        self.buffer = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    @property
    def response_bytes(self) -> int:
        """The response region's size: the most one call's outputs (results and dict
        arrays together) may take."""
        return self.size - self.request_bytes

    @classmethod
    def create(cls, request_bytes: int, response_bytes: int) -> "Arena":
        request_bytes = align(request_bytes)
        size = request_bytes + align(response_bytes)
        fd = os.memfd_create("convgrade-arena", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, size)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
        return cls(fd, size, request_bytes)

    def close(self) -> None:
        self.buffer.close()
        os.close(self.fd)

    def view(self, descriptor: dict) -> np.ndarray:
        """An ndarray view on the arena for a descriptor (no copy)."""
        dtype = np.dtype(descriptor["dtype"])
        shape = tuple(descriptor["shape"])
        return np.ndarray(shape, dtype=dtype, buffer=self.buffer, offset=descriptor["offset"])

    def put(self, arrays: dict[str, np.ndarray], *, start: int, end: int) -> dict[str, dict]:
        """Copy arrays into [start, end) and return their descriptors."""
        descriptors, offset = {}, align(start)
        for name, array in arrays.items():
            array = np.asarray(array)
            if offset + array.nbytes > end:
                raise ProtocolError(f"{name}: {array.nbytes} bytes do not fit in the arena")
            descriptor = {"offset": offset, "dtype": array.dtype.str, "shape": list(array.shape)}
            np.copyto(self.view(descriptor), array, casting="no")
            descriptors[name] = descriptor
            offset = align(offset + array.nbytes)
        return descriptors

    def fetch_response(self, descriptor: object, label: str) -> np.ndarray:
        """Validate an untrusted response descriptor and copy its array out (harness side)."""
        if not isinstance(descriptor, dict):
            raise ProtocolError(f"{label}: descriptor is not an object")
        dtype, shape, offset = descriptor.get("dtype"), descriptor.get("shape"), descriptor.get("offset")
        if dtype not in TRANSFERABLE_DTYPES:
            raise ProtocolError(f"{label}: dtype {dtype!r} is not transferable")
        if not isinstance(shape, list) or len(shape) > 8 or not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError(f"{label}: bad shape {shape!r}")
        if type(offset) is not int or offset % ALIGNMENT:
            raise ProtocolError(f"{label}: bad offset {offset!r}")
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize  # Python ints: no overflow to wrap around
        if offset < self.request_bytes or offset + nbytes > self.size:
            raise ProtocolError(f"{label}: {nbytes} bytes at offset {offset} fall outside the response region")
        return self.view({"dtype": dtype, "shape": shape, "offset": offset}).copy()
