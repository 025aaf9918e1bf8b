"""How a service is set up: the data folder, the roster, the grading config, the limits.
The command line (grader.service.commands) fills it; grader.service.app builds from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.grading.config import GradingConfig
from grader.intake.limits import LoadLimits
from grader.intake.roster import Roster
from grader.service.board import Counting


@dataclass
class ServiceSettings:
    data_dir: Path
    roster: Roster
    config: GradingConfig = field(default_factory=GradingConfig)
    database: str | None = None
    scheduler: str | None = None
    sandbox: str = "process"
    jobs: int | None = None
    rate_limit: tuple[int, float] = (5, 600.0)
    """At most this many submissions per student in this many seconds (staff: no limit)."""
    max_upload_bytes: int = LoadLimits().max_total_bytes
    check_timeout_s: float = 5.0
    """An upload whose check takes longer is refused (its checking process is killed)."""
    checkers: int | None = None
    """Upload-checking processes (default 4, whatever the cores: see upload_check.DEFAULT_WORKERS)."""
    refusal_limit: tuple[int, float] = (10, 600.0)
    """At most this many refused uploads per student in this many seconds (see check_limits)."""
    counting: Counting = "best"
    max_event_streams: int = 512
    """Live-board event streams open at once (each holds a descriptor); past it, 503."""
    max_event_streams_per_address: int = 8
    """... and from one client address; past it, 429."""
