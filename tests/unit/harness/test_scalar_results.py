"""A scalar result (a loss) crosses the worker protocol as a 0-d array: the worker's
description of what a function returned, read back by the harness's reply reader through
one shared arena, in this process (no worker is started).

The worker's module runs as a script beside its sibling modules (``import protocol``), so
it is imported here with the harness folder on sys.path, which is put back afterwards.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.harness.protocol import Arena
from grader.harness.worker_replies import ReplyReader

HARNESS = Path(__file__).resolve().parents[3] / "grader" / "harness"


@pytest.fixture(scope="module")
def untrusted_worker():
    before_path, before_modules = list(sys.path), set(sys.modules)
    sys.path.insert(0, str(HARNESS))
    try:
        yield importlib.import_module("untrusted_worker")
    finally:
        sys.path[:] = before_path
        for name in set(sys.modules) - before_modules:  # the harness's modules by their bare names
            if not name.startswith(("grader", "numpy")):
                del sys.modules[name]


@pytest.fixture
def round_trip(untrusted_worker):
    """value -> the worker's description -> what the harness reads (a Returned)."""
    arena = Arena.create(4096, 4096)
    worker = untrusted_worker.Worker({"request_fd": -1, "reply_fd": -1, "arena_fd": arena.fd,
                                      "arena_size": arena.size, "request_bytes": arena.request_bytes, "root": "/"})
    reader = ReplyReader(("loss",), arena, process=None, direct_reads=False)

    def send(value):
        description, _ = worker.describe_result(value, arena.request_bytes)
        return reader._returned("loss", description)

    yield send
    worker.arena.buffer.close()
    arena.close()


@pytest.mark.parametrize("value, dtype", [
    pytest.param(2.302585092994046, "float64", id="python-float"),
    pytest.param(np.float64(2.302585092994046), "float64", id="numpy-float64"),
    pytest.param(np.array(2.302585092994046), "float64", id="0d-array"),
    pytest.param(np.float32(2.302585), "float32", id="numpy-float32"),
])
def test_a_float_arrives_as_a_0d_array_of_its_own_dtype(round_trip, value, dtype):
    returned = round_trip(value)
    assert returned.kind == "array" and returned.shape == () and returned.dtype_name == dtype
    assert returned.array.shape == () and float(returned.array) == float(value)


class Loud(float):
    """A float subclass: its own methods are the student's code, so it travels as 'other'."""


@pytest.mark.parametrize("value, type_name", [
    pytest.param(Loud(2.3), "Loud", id="float-subclass"),
    pytest.param(2, "int", id="int"),
    pytest.param([2.3], "list", id="list"),
])
def test_anything_but_an_exact_float_is_reported_as_what_it_is(round_trip, value, type_name):
    returned = round_trip(value)
    assert returned.kind == "other" and type_name in returned.type_name and returned.array is None
