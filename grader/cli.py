"""Command line: a thin layer over the library (``grader.grading.grade``, ``grader.batch.grade_all``).

Exit codes: 0 graded (whatever the score), 1 the grader itself failed (not gradable),
2 usage error. The JSON goes to ``--out`` or to standard output (not when that is a
terminal: 18 KB of JSON helps nobody there); a human summary goes to standard error.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from grader.intake.class_folder import CLASS_AT, WARN_AT, submission_like_entries
from grader.grading.config import GradingConfig
from grader.errors import ConvgradeError, GraderError, UsageError
from grader.publish.gradescope import to_gradescope
from grader.harness import assignments
from grader.harness.text import clean
from grader.grading.result import GradeResult
from grader.sandbox import BACKENDS, get_sandbox
from grader.grading.scoring import total

EXIT_GRADER_FAILED = 1
EXIT_USAGE = 2


def sandbox_option(function):
    return click.option("--sandbox", type=click.Choice(BACKENDS), default="process", show_default=True,
                        help="Where student code runs: a locked-down local process or a Docker container.")(function)


def config_option(function):
    """--config and --assignment: together they make the grading's configuration."""
    function = click.option("--assignment", type=click.Choice(sorted(assignments.names())), default=None,
                            help=f"The assignment pack (default: the config file's, else {assignments.DEFAULT}).")(function)
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="JSON file overriding the rubric, limits or timing budget.")(function)


def format_option(function):
    return click.option("--format", "output_format", type=click.Choice(["json", "gradescope"]), default="json",
                        show_default=True, help="The result as convgrade JSON or as Gradescope's results.json.")(function)


def class_output_options(function):
    """The options of every command that writes a class's outputs (grade-all, leaderboard):
    one list, so the two cannot drift apart."""
    for option in reversed([
        click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="CSV with columns id,name[,submitted_at], or a Canvas gradebook export (then "
                          "canvas_gradebook.csv is written too)."),
        click.option("--anonymize", is_flag=True, help="Pseudonyms instead of names and ids on the leaderboard; "
                     "staff/pseudonyms.csv says who is who (grade-all also notes each student's own in their "
                     "result)."),
        click.option("--hide-unranked-scores", is_flag=True,
                     help="A public board: list unranked students without their score."),
        click.option("--salt", envvar="CONVGRADE_SALT", default="", show_envvar=True,
                     help="Secret salt of the pseudonyms (keep it across runs so pseudonyms stay stable)."),
        format_option,
        config_option,
    ]):
        function = option(function)
    return function


def print_summary(result: GradeResult) -> None:
    """What a person reads on the terminal: the score, each group's points, the speed in
    words, the first failed checks, and every note the loader left."""
    from grader.grading.result_words import describe_profile, describe_timing

    click.echo(f"{result.submission.id}: {result.score:g}/{result.max_score:g}"
               + ("  NOT GRADABLE" if not result.gradable else ""), err=True)
    if result.failure:
        click.echo(f"  {result.failure.kind.value} failure: {result.failure.message.splitlines()[0]}", err=True)
        for line in result.failure.message.splitlines()[1:]:
            if line.startswith("Hint:"):  # said once here, not once per check
                click.echo(f"  {line}", err=True)
    groups: dict[str, list[float]] = {}
    for check in result.checks:
        earned = groups.setdefault(check.group, [0.0, 0.0])
        earned[0] += check.score
        earned[1] += check.max_score
    order = list(assignments.get(result.assignment).DEFAULT_RUBRIC["points"])  # the rubric's order, then speed
    ranked = sorted(groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    click.echo("  points: " + ", ".join(f"{group} {total([s]):g}/{total([m]):g}" for group, (s, m) in ranked),
               err=True)
    for timing in result.timing:
        click.echo(f"  {timing.call}: {describe_timing(timing)}", err=True)
    for profile in result.line_profiles:  # the hottest line only; the result has the top lines
        for line in describe_profile(profile, top=1):
            click.echo(f"  where the time goes (feedback, not scored) {line.strip()}", err=True)
    if result.integrity is not None and result.integrity.uses:
        zeroed = f", {' and '.join(result.integrity.zeroed)} zeroed" if result.integrity.zeroed else ""
        click.echo(f"  forbidden calls: {len(result.integrity.uses)} pieces of evidence{zeroed} "
                   "(staff only: the result's integrity block)", err=True)
    if result.integrity is not None and result.integrity.hook_tampering:
        # Marked, not scored: the calls after it were not watched (see grader.grading.forbidden).
        tampered = ", ".join(f"{t.function} {t.what} after {t.calls} check {'call' if t.calls == 1 else 'calls'}"
                             for t in result.integrity.hook_tampering)
        click.echo(f"  forbidden-call hook tampered with: {tampered} "
                   "(staff only: the result's integrity block)", err=True)
    if result.what_if is not None:
        click.echo(f"  what-if (not scored): {result.what_if.summary}", err=True)
    failed = [c for c in result.checks if c.status.value == "failed"]
    not_run = 0
    if failed and failed[0].id == "load":  # the others only point to it: count them
        not_run = sum(c.message.startswith("not run: ") for c in failed[1:])
        failed = failed[:1] + [c for c in failed[1:] if not c.message.startswith("not run: ")]
    for check in failed[:5]:
        click.echo(f"  FAILED {check.name}: {check.message.splitlines()[0][:300]}", err=True)
    if len(failed) > 5:
        click.echo(f"  ... and {len(failed) - 5} more failed checks", err=True)
    if not_run:
        click.echo(f"  ... and {not_run} checks not run", err=True)
    for note in result.notes:
        click.echo(f"  note: {note}", err=True)


def refuse_a_class(submission: Path, one_student: bool, functions: tuple[str, ...]) -> None:
    """A folder whose entries each look like a submission is a class: grade-all grades it."""
    if not submission.is_dir():
        return
    entries = submission_like_entries(submission, functions)
    # Entry names are the students' own file names: escaped before they reach a terminal.
    shown = ", ".join(clean(name) for name in entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
    if len(entries) >= CLASS_AT and not one_student:
        raise UsageError(
            f"{submission} looks like a class, not one student: {len(entries)} of its entries each hold a "
            f"submission ({shown}). Grade them with `convgrade grade-all {submission} --out OUT` "
            f"(or `make grade-all SUBMISSIONS={submission}`); pass --one-student if it is one student's work.")
    if len(entries) >= WARN_AT:
        click.echo(f"warning: {len(entries)} entries of {submission} each hold a submission ({shown}); grading "
                   "them as ONE student (see the notes below). For one grade per student, use grade-all.", err=True)


def print_config_warnings(config: GradingConfig) -> None:
    for warning in config.warnings():
        click.echo(f"warning: config: {warning}", err=True)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def render(result: GradeResult, output_format: str) -> str:
    document = to_gradescope(result) if output_format == "gradescope" else result.model_dump(mode="json")
    return json.dumps(document, indent=2) + "\n"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="convgrade")
def cli() -> None:
    """convgrade: grade numpy layers (CS231n assignments, one pack each) in a sandbox, with honest timing."""


@cli.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@sandbox_option
@format_option
@config_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the result here, not stdout.")
@click.option("--seed", type=int, help="Seed of the hidden cases (default: derived from the submission's content "
                                       "and the course secret, so a regrade gives the same cases; recorded).")
@click.option("--cpu", type=int, help="Core to run (and time) on; default: the last allowed core.")
@click.option("--one-student", is_flag=True,
              help="Grade a folder as one student even when its entries look like several students' submissions.")
def grade(submission: Path, sandbox: str, output_format: str, config_path: Path | None, assignment: str | None,
          out: Path | None, seed: int | None, cpu: int | None, one_student: bool) -> None:
    """Grade one SUBMISSION: a .py file, a folder, a .zip or an .ipynb.

    The result goes to --out, or to standard output when that is a file or a pipe
    (`> result.json`); on a terminal only the summary is shown.
    """
    from grader.grading.grade import grade_submission
    from grader.sandbox.placement import Placement

    config = GradingConfig.load(config_path, assignment)
    warn_without_secret(config, seed)
    print_config_warnings(config)
    refuse_a_class(submission, one_student, tuple(config.pack().STUDENT_FUNCTIONS.values()))
    result = grade_submission(submission, get_sandbox(sandbox), config, seed=seed, placement=Placement(cpu=cpu))
    print_summary(result)
    # A not-gradable result is still written as convgrade JSON (it says so); Gradescope
    # has no such state, so there the run fails visibly rather than record a zero.
    if result.gradable or output_format == "json":
        if out is None and stdout_is_terminal():
            click.echo(f"  (the {output_format} result is not printed on a terminal: add --out result.json, "
                       "or redirect: > result.json)", err=True)
        else:
            write_output(render(result, output_format), out)
    if not result.gradable:
        raise GraderError(result.failure.message if result.failure else "not gradable")


@cli.command("grade-all")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: results/<id>.json, leaderboard.{json,md,html}, scores.csv, summary.json.")
@click.option("--only", "only", multiple=True, metavar="ID[,ID]",
              help="Regrade only these students (ids, comma-separated or repeated) and rebuild every output.")
@sandbox_option
@click.option("--jobs", type=int, help="Students graded at once, each on its own core (default: all usable cores).")
@click.option("--force", is_flag=True, help="Regrade everyone, even students whose stored result is up to date.")
@class_output_options
@click.option("--seed", type=int, help="Seed of the hidden cases for every student (default: each derived from "
                                       "the submission's content and the course secret).")
@click.option("--exclusive-timing", is_flag=True,
              help="Pause every other grading while one is timed (strictest figures; about as slow as --jobs 1).")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Grade on this Dask scheduler's workers (`convgrade worker`), not on this machine.")
def grade_all_command(submissions: Path, out: Path, only: tuple[str, ...], sandbox: str, jobs: int | None,
                      force: bool, roster: Path | None, anonymize: bool, hide_unranked_scores: bool, salt: str,
                      output_format: str, config_path: Path | None, assignment: str | None, seed: int | None,
                      exclusive_timing: bool, scheduler: str | None) -> None:
    """Grade every submission in the folder SUBMISSIONS (one entry per student) into --out.

    Re-running skips students whose submission, grader version and configuration are
    unchanged; an interrupted run (Ctrl-C) keeps what it finished and resumes there.
    Exit codes: 0 done, 1 some student was not gradable (a grader failure), 2 usage
    error, 130 interrupted.
    """
    from grader.batch.grade_all import BatchInterrupted, grade_all

    config = GradingConfig.load(config_path, assignment)
    warn_without_secret(config, seed)
    print_config_warnings(config)
    try:
        summary = grade_all(submissions, out, sandbox_name=sandbox, config=config, jobs=jobs, force=force,
                            roster=roster, anonymize=anonymize, anonymize_salt=salt, output_format=output_format,
                            seed=seed, exclusive_timing=exclusive_timing, only=list(only) or None,
                            hide_unranked_scores=hide_unranked_scores, scheduler=scheduler)
    except BatchInterrupted as exc:
        counts = exc.summary.counts
        click.echo(f"interrupted: {counts['graded'] + counts['not_gradable']} graded this run, {counts['skipped']} "
                   f"unchanged, {counts['interrupted'] + counts['not_started']} left; re-run to resume "
                   f"({out / 'summary.json'})", err=True)
        sys.exit(130)
    counts = summary.counts
    click.echo(f"{counts['students']} students: {counts['graded']} graded, {counts['skipped']} unchanged, "
               f"{counts['not_gradable']} not gradable; {summary.wall_time_s:.1f} s. Leaderboard: "
               f"{out / 'leaderboard.md'}", err=True)
    if counts["not_gradable"]:
        ids = [s.id for s in summary.students if s.status == "not_gradable"]
        raise GraderError(f"not gradable (re-run to retry them): {', '.join(ids)}")


@cli.command("leaderboard")
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: leaderboard.{json,md,html}, scores.csv (and gradescope/ with --format gradescope).")
@class_output_options
def leaderboard_command(results_dir: Path, out: Path, roster: Path | None, anonymize: bool,
                        hide_unranked_scores: bool, salt: str, output_format: str, config_path: Path | None,
                        assignment: str | None) -> None:
    """Rebuild every leaderboard output from stored results in RESULTS_DIR (a grade-all
    output folder, or its results/ folder), without grading anything: after a regrade,
    or with another roster or anonymization. --out may be RESULTS_DIR itself."""
    from grader.batch.grade_all import rebuild_leaderboard

    summary = rebuild_leaderboard(results_dir, out, roster=roster, anonymize=anonymize, anonymize_salt=salt,
                                  output_format=output_format, config=GradingConfig.load(config_path, assignment),
                                  hide_unranked_scores=hide_unranked_scores)
    counts = summary.leaderboard_counts or {}
    click.echo(f"{sum(counts.values())} results: {counts.get('ranked', 0)} ranked. Leaderboard: "
               f"{out / 'leaderboard.md'}", err=True)


@cli.command("worker")
@click.argument("scheduler_address", metavar="SCHEDULER_ADDRESS")
@click.option("--slots", type=int, help="Gradings at once, one per core (default: every usable core).")
@click.option("--cores", metavar="LIST", help="Pin the slots to these cores, e.g. 2,3 (default: the last --slots "
              "usable cores); for hosts shared with other work.")
@sandbox_option
@click.option("--name", "worker_name", help="Name prefix of this host's workers (default: the hostname).")
@click.option("--nthreads", type=int, hidden=True, help="dask-jobqueue's name for --slots.")
@click.option("--memory-limit", hidden=True, help="Accepted from dask-jobqueue and ignored: the sandbox limits memory.")
@click.option("--death-timeout", hidden=True, help="Accepted from dask-jobqueue and ignored: the worker waits for "
              "its scheduler as long as it runs.")
@click.option("--local-directory", hidden=True, help="Accepted from dask-jobqueue and ignored.")
def worker_command(scheduler_address: str, slots: int | None, cores: str | None, sandbox: str,
                   worker_name: str | None, nthreads: int | None, memory_limit: str | None,
                   death_timeout: str | None, local_directory: str | None) -> None:
    """Grade for the Dask scheduler at SCHEDULER_ADDRESS (tcp://HOST:PORT) on this host.

    One slot per core, each grading pinned to its own core; the sandbox is made ready
    (the docker image built or checked) before any work is taken. Runs until Ctrl-C or
    SIGTERM; when the scheduler restarts, the worker joins it again. It also takes the
    command line dask-jobqueue writes (worker_command="grader worker"; --nthreads sets
    the slots).
    """
    from grader.batch.executor import choose_cores
    from grader.batch.executor import serve_slots

    if cores:
        if slots is not None or nthreads is not None:
            raise UsageError("--cores names the slots' cores; give it alone, without --slots or --nthreads")
        try:
            chosen = [int(core) for core in cores.split(",")]
        except ValueError:
            raise UsageError(f"--cores takes core numbers separated by commas, not {cores!r}") from None
        if not set(chosen) <= os.sched_getaffinity(0) or len(set(chosen)) != len(chosen):
            raise UsageError(f"--cores {cores}: each core once, among the usable ones "
                             f"({', '.join(map(str, sorted(os.sched_getaffinity(0))))})")
        notes = []
    else:
        chosen, notes = choose_cores(slots if slots is not None else nthreads)
    cores = chosen
    for note in notes:
        click.echo(note.replace("--jobs", "--slots"), err=True)
    serve_slots(scheduler_address, cores, sandbox, lambda text: click.echo(text, err=True), name=worker_name)


@cli.command("similarity")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--known", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder of known public solutions to compare every student with.")
@click.option("--submissions", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The class's submissions (default: the folder OUT/summary.json records).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Overlap to list a pair (default 0.6).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the HTML (default OUT/staff/similarity.html, mode 0600).")
@click.option("--assignment", type=click.Choice(sorted(assignments.names())), default=None,
              help="The assignment (a pack or a bundle): its graded functions and starter template. "
                   f"Default: the one OUT's results were graded as, else {assignments.DEFAULT}.")
def similarity_command(out: Path, known: Path | None, submissions: Path | None, threshold: float | None,
                       report: Path | None, assignment: str | None) -> None:
    """Staff only: compare the graded functions' code across a graded class (OUT, a grade-all
    output folder) and optionally with known public solutions; write an HTML report of the
    pairs above the threshold with their matching code side by side."""
    from grader.atomic_write import write_atomic
    from grader.publish.class_outputs import STAFF_FILE_MODE
    from grader.similarity.detect import DEFAULT_THRESHOLD, similar_pairs
    from grader.similarity.report import similarity_html
    from grader.similarity.sources import class_submissions_folder, collect, graded_assignment

    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    pack = assignments.get(assignment or graded_assignment(out) or assignments.DEFAULT)
    collected = collect(submissions or class_submissions_folder(out), pack)
    known_codes = collect(known, pack, known=True) if known else None
    codes = collected.codes + (known_codes.codes if known_codes else [])
    skipped = collected.skipped + (known_codes.skipped if known_codes else [])
    pairs = similar_pairs(codes, threshold=threshold, template=pack.STARTER_TEMPLATE)
    target = report or out / "staff" / "similarity.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, similarity_html(pairs, threshold=threshold, compared=len(codes), skipped=skipped),
                 STAFF_FILE_MODE)
    click.echo(f"{len(codes)} submissions compared, {len(pairs)} pairs at or above {threshold:.0%}: {target}", err=True)


@cli.command("clean-containers")
def clean_containers() -> None:
    """Force-remove leftover sandbox containers (label convgrade=1) from the Docker engine.

    Every grading removes its own container; this sweeps what a killed grader or an
    engine hiccup left behind. It also ends gradings still running on this engine.
    """
    from grader.sandbox.docker import sweep_containers
    from grader.sandbox.image import docker_client

    removed = sweep_containers(docker_client(timeout=60))
    click.echo(f"removed {removed} convgrade container{'s' if removed != 1 else ''}", err=True)


# The service's commands (serve, tokens) live with the service.
from grader.service.commands import register as _register_service_commands  # noqa: E402

_register_service_commands(cli, sandbox_option, config_option)


def warn_without_secret(config: GradingConfig, seed: int | None) -> None:
    from grader.grading.seeds import NO_SECRET_WARNING, course_secret

    if seed is None and course_secret(config.seed_secret) is None:
        click.echo(f"warning: {NO_SECRET_WARNING}", err=True)


@cli.command("doctor")
@click.option("--timing", "measure_timing", is_flag=True,
              help="Also measure this host's drift between gradings: the reference graded against itself "
                   "--count times, --spacing seconds apart (a few minutes by default); stored with the host's "
                   "machine figures, it widens every later grading's interval here when above the configured floor.")
@click.option("--count", type=click.IntRange(2, 50), default=6, show_default=True, help="A/A gradings (--timing).")
@click.option("--spacing", "spacing_s", type=click.FloatRange(0, 3600), default=30.0, show_default=True,
              help="Seconds between two A/A gradings (--timing): the drift is over time, not within a minute.")
@sandbox_option
@config_option
def doctor_command(measure_timing: bool, count: int, spacing_s: float, sandbox: str, config_path: Path | None,
                   assignment: str | None) -> None:
    """One screen: the isolation this machine gives a grading, and its timing conditions."""
    from grader.sandbox.doctor import report

    click.echo(report())
    if measure_timing:
        measure_drift(GradingConfig.load(config_path, assignment), sandbox, count, spacing_s)


def measure_drift(config: GradingConfig, sandbox: str, count: int, spacing_s: float) -> None:
    """`doctor --timing`: the A/A gradings, their spread, and where it was stored."""
    import tempfile

    from grader.grading import drift_check, machine_cache

    try:
        drift_check.reference_submission(config)
    except ValueError as exc:
        raise UsageError(f"--timing: {exc}") from exc
    path = machine_cache.default_path()
    click.echo(f"\nDrift between gradings: {count} gradings of the reference against itself, {spacing_s:g} s apart "
               f"({config.timing.size}, {sandbox} sandbox)")
    with tempfile.TemporaryDirectory(prefix="convgrade-drift-") as folder:
        try:
            measured = drift_check.measure(get_sandbox(sandbox), config, path, Path(folder), count=count,
                                           spacing_s=spacing_s, say=click.echo)
        except RuntimeError as exc:
            raise GraderError(str(exc)) from exc
    entry, floor = measured.entry, config.timing.between_gradings_cv
    used = "this measurement" if entry["cv_upper"] > floor else "the configured floor (the measurement is below it)"
    click.echo(f"  this host's spread: {entry['cv_upper']:.2%} (upper bound; CV {entry['cv']:.2%}); configured floor "
               f"{floor:.2%}: gradings here will use {used}")
    click.echo(f"  stored in {path}" if measured.stored else f"  could not be stored in {path}")


def write_output(text: str, out: Path | None) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    else:
        sys.stdout.write(text)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except GraderError as exc:
        click.echo(f"grader failure (not the submission's fault): {exc}", err=True)
        sys.exit(EXIT_GRADER_FAILED)
    except ConvgradeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_GRADER_FAILED)
