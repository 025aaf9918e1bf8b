"""The service's API on a real uvicorn: identity, every path, bad uploads, rate limits, regrades."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest

from tests.service.conftest import CORRECTNESS_ONLY, ROOT, Server, example, rows

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module (starting one takes seconds); each test uses its own students."""
    running = Server(tmp_path_factory.mktemp("api"), students=5, args=("--rate-limit", "3/600", "--jobs", "1"))
    yield running.start()
    running.stop()


def stored(server) -> tuple[int, int]:
    """(blobs in the store, job rows)."""
    blobs = sum(1 for path in (server.data / "store").rglob("*") if path.is_file())
    return blobs, len(rows(server.database(), "select id from submissions"))


def test_a_submission_is_graded_and_only_its_student_and_staff_see_it(server):
    accepted = server.submit("s00", "mine.py", example("fast_strided"))
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["status"] == "queued" and body["position"] >= 1
    state = server.wait_done([body["id"]])[body["id"]]
    assert state["status"] == "graded"
    assert state["result"]["submission"]["id"] == "s00" and state["result"]["score"] == 100.0

    with server.client("s01") as other:
        assert other.get(f"/api/submissions/{body['id']}").status_code == 404  # not even its existence
        assert other.get("/api/submissions", params={"student": "s00"}).status_code == 403
        assert other.get("/api/submissions").json() == []  # s01 has not submitted yet
        assert other.get("/api/health").status_code == 403
        assert other.get("/api/export/scores.csv").status_code == 403
    with server.client("s00") as own:
        assert own.get(f"/api/submissions/{body['id']}").json()["result"]["score"] == 100.0
        assert [s["id"] for s in own.get("/api/submissions").json()] == [body["id"]]
        page = own.get("/me")  # the bearer works on the feedback page too
        assert "Score 100 / 100" in page.text and "Content-Security-Policy" in page.text
    import httpx

    assert httpx.get(f"{server.url}/api/submissions/{body['id']}").status_code == 401
    assert httpx.get(f"{server.url}/api/submissions/{body['id']}",
                     headers={"Authorization": "Bearer not-a-token"}).status_code == 401

    board = httpx.get(f"{server.url}/api/leaderboard").json()  # public
    assert "s00" in [entry["student_id"] for entry in board["entries"]]
    with server.client("staff") as staff:
        assert "s00,Student 00,100" in staff.get("/api/export/scores.csv").text
        archive = zipfile.ZipFile(io.BytesIO(staff.get("/api/export/gradescope.zip").content))
        assert archive.namelist() == ["s00/results.json"]
        health = staff.get("/api/health").json()
        assert health["queue_depth"] == 0 and health["workers"] == 1 and health["graded"] >= 1


def test_a_student_signs_in_on_the_feedback_page_with_a_form(server):
    import httpx

    with httpx.Client(base_url=server.url) as browser:
        assert 'name="token"' in browser.get("/me").text
        assert browser.post("/me", data={"token": "wrong"}).status_code == 401
        signed_in = browser.post("/me", data={"token": server.tokens()["s03"]}, follow_redirects=True)
        assert "Submissions of Student 03" in signed_in.text and "No submission yet" in signed_in.text
        assert "samesite=strict" in signed_in.history[0].headers["set-cookie"].lower()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, status, says", [
    ("notes.txt", b"hello", 415, "expected a .py file"),
    ("binary.py", b"\x7fELF\x02\x01\x01\0", 422, "the file is not Python source text: it holds a NUL byte"),
    ("list.ipynb", b"[1, 2]", 422, "notebook is not valid JSON"),
    ("broken.zip", b"PK\x03\x04 not a zip", 422, "zip"),
    ("notzip.zip", b"just text", 422, "not a valid zip archive: it does not start as a zip file does"),
    ("escape.zip", _zip({"../../evil.py": example("fast_strided")}), 422, ".."),
    ("bomb.zip", _zip({"layers.py": example("fast_strided"), "pad.bin": b"\0" * (30 * 2**20)}), 422,
     "compression ratio"),
])
def test_a_bad_upload_is_refused_by_its_bytes_before_the_202_and_nothing_is_stored(server, name, data, status, says):
    before = stored(server)
    answer = server.submit("s03", name, data)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["detail"]
    assert stored(server) == before


def test_too_big_an_upload_is_refused_before_it_is_read(server):
    before = stored(server)
    answer = server.submit("s03", "huge.py", b"#" * (21 * 2**20))
    assert answer.status_code == 413
    assert stored(server) == before


def test_the_rate_limit_answers_429_with_retry_after(server):
    before = stored(server)
    for _ in range(3):
        assert server.submit("s01", "a.py", example("fast_strided")).status_code == 202
    refused = server.submit("s01", "a.py", example("fast_strided"))
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 601
    assert server.submit("s02", "a.py", example("fast_strided")).status_code == 202  # per student
    # Four jobs; the same bytes (also s00's, earlier) stored once.
    assert stored(server) == (before[0], before[1] + 4)


def test_a_regrade_replaces_the_result_once_and_a_rotated_token_stops_working(server):
    job = server.submit("s00", "a.py", example("bug_pad_slice")).json()["id"]
    first = server.wait_done([job])[job]
    with server.client("staff") as staff:
        assert staff.post("/api/regrade", json={"student": "s00", "all": True}).status_code == 422
        assert staff.post("/api/regrade", json={"submission": job}).json() == {"queued": 1}
    again = server.wait_done([job])[job]
    assert again["result"]["score"] == first["result"]["score"] < 100
    # A new grading: graded_at has one-second steps, so the wall time tells two gradings in one second apart.
    assert (again["result"]["graded_at"], again["result"]["wall_time_s"]) != \
        (first["result"]["graded_at"], first["result"]["wall_time_s"])
    assert len(rows(server.database(), f"select submission_id from results where submission_id = {job}")) == 1

    old = server.tokens()["s00"]
    printed = subprocess.run([sys.executable, "-m", "grader", "tokens", "--data", str(server.data), "--rotate", "s00"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert printed.startswith("id,token\ns00,") and old not in printed
    import httpx

    assert httpx.get(f"{server.url}/api/submissions", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    with server.client("s00") as own:
        assert own.get("/api/submissions").status_code == 200
    assert oct((server.data / "tokens.csv").stat().st_mode & 0o777) == "0o600"


def test_the_same_file_submitted_again_shares_its_grading_and_a_regrade_grades_both_afresh(server):
    data = example("bug_pad_slice") + b"\n# s04's\n"
    first = server.submit("s04", "a.py", data).json()["id"]
    again = server.submit("s04", "b.py", data).json()["id"]  # another name: stored as s04.py all the same
    other = server.submit("s03", "a.py", data).json()["id"]  # another student's: a grading of their own
    states = server.wait_done([first, again, other])

    def grading(state):
        return state["result"]["graded_at"], state["result"]["wall_time_s"]

    assert states[first]["result"] == states[again]["result"]  # one grading, recorded for both
    assert states[other]["result"]["submission"]["id"] == "s03" and grading(states[other]) != grading(states[first])
    assert states[first]["result"]["score"] == states[other]["result"]["score"] < 100
    with server.client("staff") as staff:  # regrading one regrades its twin: they still share one grading
        assert staff.post("/api/regrade", json={"submission": again}).json() == {"queued": 2}
    regraded = server.wait_done([first, again])
    assert regraded[first]["result"] == regraded[again]["result"]
    assert grading(regraded[first]) != grading(states[first])
    assert len(rows(server.database(), f"select submission_id from results where submission_id in ({first}, {again})")) == 2


def test_a_course_graded_as_a_bundle_grades_a_whole_layers_py(server_factory):
    """A course whose configuration names the cs231n-a2 bundle: a layers.py with max pooling left
    as the stub is graded whole, every other layer earning its points and max pooling none, and
    the feedback page, the leaderboard and the staff exports show that one grading."""
    import httpx

    server = server_factory("a2", students=2, config={**CORRECTNESS_ONLY, "assignment": "cs231n-a2"},
                            args=("--jobs", "1")).start()
    stub = (ROOT / "submissions" / "a2" / "layers_maxpool_stub.py").read_bytes()
    accepted = server.submit("s00", "layers.py", stub)
    assert accepted.status_code == 202, accepted.text
    state = server.wait_done([accepted.json()["id"]])[accepted.json()["id"]]
    assert state["status"] == "graded", state
    result = state["result"]
    assert result["assignment"] == "cs231n-a2"
    others = [c for c in result["checks"] if c["layer"] != "cs231n-maxpool"]
    maxpool = [c for c in result["checks"] if c["layer"] == "cs231n-maxpool"]
    assert {c["layer"] for c in others} >= {"cs231n-conv", "cs231n-affine", "cs231n-softmax-loss"}
    assert all(c["status"] == "passed" for c in others)
    assert maxpool and all(c["status"] == "failed" and "is still the starter code's stub" in c["message"]
                           for c in maxpool if c["call"] != "all")
    assert result["score"] == pytest.approx(sum(c["max_score"] for c in others)) and 0 < result["score"] < 100
    with server.client("s00") as own:
        page = own.get("/me").text
        assert f"Score {result['score']:g} / 100" in page and "max_pool_forward_naive" in page
    board = httpx.get(f"{server.url}/api/leaderboard").json()
    assert [e["student_id"] for e in board["entries"]] == ["s00"]
    with server.client("staff") as staff:
        row = next(line for line in staff.get("/api/export/scores.csv").text.splitlines() if line.startswith("s00,"))
        assert row.split(",")[:2] == ["s00", "Student 00"] and float(row.split(",")[2]) == pytest.approx(result["score"])
        archive = zipfile.ZipFile(io.BytesIO(staff.get("/api/export/gradescope.zip").content))
        tests = json.loads(archive.read("s00/results.json"))["tests"]
        assert {"conv: inputs are left unchanged", "maxpool: inputs are left unchanged"} <= {t["name"] for t in tests}
