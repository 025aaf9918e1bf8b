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
    """What a person reads on the terminal (grader.grading.summary_text: the same lines
    `convgrade submit` prints for a result the server sends back)."""
    from grader.grading.summary_text import summary_lines

    for line in summary_lines(result.model_dump(mode="json")):
        click.echo(line, err=True)


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


@cli.command("finals")
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where finals.{json,md,html} and the rounds (finals-rounds/) go: beside the board, e.g. "
                   "RESULTS_DIR itself (its results/ are never written).")
@click.option("--top", type=click.IntRange(min=2), default=10, show_default=True,
              help="The top K correct students of the board (plus everyone whose interval overlaps the K-th's).")
@click.option("--rounds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Rounds; each times every finalist once. A rerun with more rounds adds them.")
@click.option("--seed", type=int, help="Seed of the rounds' orders (default: a random one, recorded in finals.json).")
@click.option("--submissions", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The class's submissions (default: the folder RESULTS_DIR/summary.json records).")
@sandbox_option
@config_option
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run the rounds on this Dask scheduler's workers (`convgrade worker`), not on this machine.")
def finals_command(results_dir: Path, out: Path, top: int, rounds: int, seed: int | None, submissions: Path | None,
                   sandbox: str, config_path: Path | None, assignment: str | None, scheduler: str | None) -> None:
    """Re-time the top of a graded class (RESULTS_DIR, a grade-all output folder) head to head, in rounds.

    Each round times every finalist against the reference, one after another on one host, in
    an order shuffled from the seed; finalists are ranked by their figures paired within each
    round, so the machine's drift between rounds cancels. Resumable: a rerun continues with
    the rounds not yet done. Rebuild the board afterwards (`convgrade leaderboard`, or a
    grade-all rerun) and it marks the finalists and takes their order from the finals.
    """
    from grader.batch.finals import run_finals
    from grader.similarity.sources import graded_assignment

    batch = results_dir.parent if results_dir.name == "results" else results_dir
    config = GradingConfig.load(config_path, assignment or graded_assignment(batch))
    print_config_warnings(config)
    try:
        finals = run_finals(results_dir, out, sandbox_name=sandbox, config=config, top=top, rounds=rounds, seed=seed,
                            scheduler=scheduler, submissions=submissions)
    except KeyboardInterrupt:
        click.echo(f"interrupted: the rounds completed are kept in {out / 'finals-rounds'}; rerun to continue",
                   err=True)
        sys.exit(130)
    click.echo(f"finals: {len(finals.entries)} finalists, {len(finals.rounds)} of {rounds} rounds: "
               f"{out / 'finals.md'}", err=True)
    for entry in finals.entries:  # unranked finalists: the board keeps its own order until all are ranked
        if entry.rank is None:
            click.echo(f"unranked: {entry.student_id}: {entry.reason}", err=True)
    if len(finals.rounds) < rounds:
        raise GraderError(f"{rounds - len(finals.rounds)} round(s) failed; rerun to complete them")


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


@cli.command("submit")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--server", envvar="CONVGRADE_SERVER", show_envvar=True, required=True,
              help="The course's grading server (`convgrade serve`), e.g. https://grader.example.edu.")
@click.option("--token", envvar="CONVGRADE_TOKEN", show_envvar=True, help="Your token (the course sent it).")
@click.option("--no-wait", is_flag=True, help="Return once the file is queued; the feedback page shows the rest.")
def submit_command(file: Path, server: str, token: str | None, no_wait: bool) -> None:
    """For students: upload FILE (.py, .zip or .ipynb) to the course's server, wait for its
    grading and print its summary and the link to your feedback page (/me).

    Works in a notebook cell too (`!convgrade submit layers.py` with CONVGRADE_SERVER and
    CONVGRADE_TOKEN set). Exit codes: 0 graded, 1 the grader failed, 2 usage error (no such
    file, no or a wrong token, server unreachable), 3 rejected (the server's loader refused
    the file: the message says why).
    """
    from grader.grading.summary_text import summary_lines
    from grader.kit.submit_client import run

    sys.exit(run(file, server, token, wait=not no_wait, summarize=summary_lines))


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
