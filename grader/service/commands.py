"""`convgrade serve` and `convgrade tokens`: registered on the CLI group by grader.cli."""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
from pathlib import Path

import click

from grader.errors import UsageError


def _rate(text: str, option: str = "--rate-limit") -> tuple[int, float]:
    match = re.fullmatch(r"(\d+)/(\d+(?:\.\d+)?)", text.strip())
    if not match or int(match[1]) < 1:
        raise UsageError(f"{option} takes N/SECONDS, e.g. 5/600, not {text!r}")
    return int(match[1]), float(match[2])


def _stream_caps(text: str) -> dict[str, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise UsageError(f"--event-streams takes TOTAL/PER_ADDRESS, e.g. 512/8, not {text!r}")
    return {"max_event_streams": int(match[1]), "max_event_streams_per_address": int(match[2])}


# What the [service] extra brings (import names): grading alone needs none of them, so the
# Gradescope zip and the cluster's node image leave them out.
SERVICE_PACKAGES = {"fastapi": "fastapi", "starlette": "fastapi", "uvicorn": "uvicorn", "multipart": "python-multipart",
                    "python_multipart": "python-multipart", "sqlalchemy": "sqlalchemy", "psycopg": "psycopg"}


@contextlib.contextmanager
def service_packages():
    """Imports of the service's packages: one missing is a usage error that says how to install them."""
    try:
        yield
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in SERVICE_PACKAGES:
            raise
        raise UsageError(f"the service needs {SERVICE_PACKAGES[top]}, which is not installed: install convgrade's "
                         "service extra (pip install 'convgrade[service]'; `make venv` does)") from None


def register(cli, sandbox_option, config_option) -> None:
    """Add `serve` and `worker` to the command line. Over 60 lines because click declares
    each option as a decorator on the command it belongs to; the commands' bodies are short."""
    @cli.command("serve")
    @click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Folder of the service's state: database, stored submissions, tokens.csv.")
    @click.option("--roster", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="CSV with columns id,name (or a Canvas export): one token per student.")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep loopback "
                  "behind a TLS proxy).")
    @click.option("--port", default=8000, show_default=True, type=int)
    @click.option("--scheduler", metavar="tcp://HOST:PORT", help="Grade on this Dask scheduler's workers "
                  "(convgrade worker) instead of an in-process cluster.")
    @click.option("--database", metavar="URL", help="postgresql://user@host/db instead of SQLite under --data.")
    @click.option("--jobs", type=int, help="In-process grading slots, one core each (default: all usable cores).")
    @click.option("--rate-limit", "rate_limit", default="5/600", show_default=True,
                  help="Submissions allowed per student per SECONDS, as N/SECONDS.")
    @click.option("--check-timeout", "check_timeout", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
                  help="Seconds an upload's check may take; past it the upload is refused.")
    @click.option("--checkers", type=click.IntRange(min=1), help="Processes that check uploads before they are "
                  "stored (default 4).")
    @click.option("--refusal-limit", "refusal_limit", default="10/600", show_default=True,
                  help="Refused uploads allowed per student per SECONDS, as N/SECONDS (their own limit).")
    @click.option("--event-streams", "event_streams", default="512/8", show_default=True,
                  help="Live-board event streams open at once, in all and per client address, as TOTAL/PER_ADDRESS.")
    @click.option("--count", "counting", type=click.Choice(["best", "latest"]), default="best", show_default=True,
                  help="Which of a student's graded submissions the leaderboard counts.")
    @sandbox_option
    @config_option
    def serve(data_dir, roster, host, port, scheduler, database, assignment, jobs, rate_limit, check_timeout,
              checkers, refusal_limit, event_streams, counting, sandbox, config_path):
        """Run the grading service: students submit, a durable queue grades, a live leaderboard."""
        with service_packages():
            for module in ("fastapi", "uvicorn", "sqlalchemy"):  # all of them before anything starts
                importlib.import_module(module)
            import uvicorn

            from grader.service.app import ServiceSettings, create_app
        from grader.grading.config import GradingConfig
        from grader.intake.roster import load_roster

        config = GradingConfig.load(config_path, assignment)  # --assignment comes with config_option
        settings = ServiceSettings(data_dir=data_dir, roster=load_roster(roster), config=config, database=database,
                                   scheduler=scheduler, sandbox=sandbox, jobs=jobs, rate_limit=_rate(rate_limit),
                                   check_timeout_s=check_timeout, checkers=checkers, refusal_limit=_rate(refusal_limit, "--refusal-limit"),
                                   counting=counting, **_stream_caps(event_streams))
        app = create_app(settings, log=lambda text: click.echo(text, err=True))
        click.echo(f"serving on http://{host}:{port} (tokens in {data_dir / 'tokens.csv'})", err=True)
        # No access log: a line per request is CPU per request, and the service logs what matters itself.
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=5)

    @cli.command("tokens")
    @click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--rotate", metavar="ID", help="Give this student (or staff) a new token; the old one stops working at once "
                  "(with PostgreSQL: when the server next starts).")
    def tokens(data_dir, rotate):
        """Print the tokens (id,token CSV, for a mail merge), or rotate one."""
        from grader.service.tokens import TOKENS_FILE, read_tokens
        from grader.service.tokens import rotate as rotate_token

        if rotate:
            try:
                rotate_token(data_dir, rotate)
            except KeyError:
                raise UsageError(f"no token for {rotate!r} in {data_dir / TOKENS_FILE}") from None
            _sync_running_database(data_dir)
        known = read_tokens(data_dir)
        if not known:
            raise UsageError(f"{data_dir / TOKENS_FILE} is missing: start `convgrade serve` once to create it")
        sys.stdout.write("id,token\n" + "".join(f"{i},{t}\n" for i, t in known.items()
                                                if not rotate or i == rotate))


def _sync_running_database(data_dir: Path) -> None:
    """With the default SQLite database, the rotated hash is written at once (a running
    server sees it on the next call); with PostgreSQL, at the server's next start."""
    db_file = data_dir / "convgrade.db"
    if not db_file.is_file():
        return
    with service_packages():
        from sqlalchemy import update

        from grader.service import db
    from grader.service.tokens import read_tokens, token_hash

    engine = db.open_database(db.database_url(None, data_dir))
    with engine.begin() as conn:
        for student_id, token in read_tokens(data_dir).items():
            conn.execute(update(db.students).where(db.students.c.id == student_id)
                         .values(token_hash=token_hash(token)))
    engine.dispose()
