"""Schemathesis against the service's published OpenAPI document: whatever it sends, the
server never answers 5xx, and nothing it refuses is stored (bounded examples)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from grader.intake.load import load_submission
from tests.service.conftest import Server, rows

pytestmark = [pytest.mark.service, pytest.mark.slow]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("fuzz"), students=2, args=("--jobs", "1"))
    yield running.start()
    running.stop()


def test_no_request_gets_a_server_error(fuzzed):
    """Every operation of the document, with generated parameters and bodies (uploads too),
    as staff, as a student and with no token."""
    schema = schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json")
    tokens = fuzzed.tokens()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.path for operation in operations} >= {"/api/submissions", "/api/submissions/{submission_id}",
                                                            "/api/regrade", "/api/health"}
    for operation in operations:
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def no_server_error(case):
            for who in ("staff", "s00", None):
                headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
                response = case.call(base_url=fuzzed.url, headers=headers, timeout=30)
                assert response.status_code < 500, \
                    f"{who}: {case.method} {case.formatted_path}: {response.status_code} {response.text}"

        no_server_error()


def test_nothing_refused_was_stored(fuzzed):
    """Runs after the fuzzing: every stored job the loader did not reject (after its 202) is a
    loadable submission with its bytes in the store, and the store holds no blob without one."""
    pending = time.monotonic() + 30  # the last uploads' checks finish
    while rows(fuzzed.database(), "select id from submissions where status = 'queued' and not checked") \
            and time.monotonic() < pending:
        time.sleep(0.2)
    jobs = rows(fuzzed.database(), "select sha256, filename from submissions where status != 'rejected'")
    blobs = {path.name for path in (fuzzed.data / "store").rglob("*") if path.is_file()}
    assert blobs == {job.sha256 for job in jobs}
    for job in jobs:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / job.filename
            path.write_bytes((fuzzed.data / "store" / job.sha256[:2] / job.sha256).read_bytes())
            load_submission(path, Path(folder) / "staging")  # raises if the upload should have been refused
