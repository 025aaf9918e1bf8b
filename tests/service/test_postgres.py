"""The service on PostgreSQL (Debian's server binaries, started and stopped here): the same
schema and the same guarantees as the SQLite default, across a restart."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.service.conftest import example, free_port

pytestmark = [pytest.mark.service, pytest.mark.slow]


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed but CI is set: install the Debian package `postgresql`")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); CI installs it")
    return Path(found[-1]).parent


def _as_user():
    """initdb and postgres refuse to run as root: as root, run them as an unprivileged user."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            user = pwd.getpwnam(name)
            return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"], user
    pytest.skip("running as root with no unprivileged user to run PostgreSQL as")


@pytest.fixture
def postgres(tmp_path):
    binaries = postgres_bin()
    prefix, user = _as_user()
    folder = Path(tempfile.mkdtemp(prefix="convgrade-pg-"))  # not pytest's: a socket path has a length limit
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, port = folder / "data", free_port()
    subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "convgrade", "--auth=trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                    f"-h 127.0.0.1 -p {port} -k {folder} -F", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://convgrade@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_service_keeps_its_state_in_postgresql(server_factory, postgres):
    server = server_factory(students=2, args=("--database", postgres, "--jobs", "1")).start()
    first = server.submit("s00", "a.py", example("fast_strided")).json()["id"]
    assert server.wait_done([first])[first]["result"]["score"] == 100.0
    second = server.submit("s01", "b.py", example("unfinished_none")).json()["id"]
    server.kill9()
    server.start()
    states = server.wait_done([first, second])
    assert states[second]["result"]["score"] == 50.0
    assert not (server.data / "convgrade.db").exists()  # nothing went to the SQLite default

    from sqlalchemy import text

    from grader.service import db

    engine = db.open_database(db.database_url(postgres, server.data))
    with engine.connect() as conn:
        assert sorted(conn.execute(text("select submission_id from results")).scalars()) == sorted([first, second])
        hashes = set(conn.execute(text("select token_hash from students")).scalars())
    engine.dispose()
    assert not hashes & set(server.tokens().values())  # only hashes are stored


def test_the_rate_limit_holds_for_simultaneous_uploads_on_postgresql(server_factory, postgres):
    from tests.service.test_rate_limit_race import SIMULTANEOUS, assert_exactly_the_limit_is_accepted, post_together

    server = server_factory(students=1, args=("--database", postgres, "--jobs", "1", "--rate-limit", "5/600")).start()
    answers = post_together(server, "s00", example("fast_strided"), SIMULTANEOUS)
    assert_exactly_the_limit_is_accepted(server, "s00", 5, answers)
