"""`convgrade finals`: the top of a graded class re-timed head to head, in rounds.

    run_finals(results_dir, out_dir, sandbox_name=..., config=..., top=10, rounds=5) -> Finals

    OUT/finals.json, finals.md, finals.html   the ranked finalists (grader.publish.finals)
    OUT/finals-rounds/plan.json               the finalists, the seed and the calls, fixed at the first run
    OUT/finals-rounds/round-<r>.json          each round, written as it completes

The finalists come from the stored results (``finals_select``); their code from the class
folder grade-all read (its summary.json records it) or ``submissions``, and each must still
be the file that was graded (the same sha256). Each round is one task on the Dask executor
(``finals_round``: one host, the host's finals lock, the round's order), each grading the
batch's own, with the stored grading's seed, its correctness checks cut to one hidden case
(correctness was decided by the grading) and no what-if. A student whose code fails a
check or is not timed in a round is out of the finals (unranked, with the reason); a
grading the grader failed, or timed while other cores were busy, is run again once within
the round (contended again, its figure is kept, marked contended: on a shared machine leaving
it out would leave the finals unranked). Nothing in RESULTS_DIR is written.

Resuming: a rerun reads the plan and the completed rounds and runs only the missing ones;
an interrupted round is run again whole (its halves would not be paired in one session).
Round r's order is a shuffle seeded by (seed, r), so the same seed gives the same orders.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import secrets
from dataclasses import replace
from pathlib import Path

import jsonschema

from grader.atomic_write import write_atomic
from grader.batch.executor import MAX_ATTEMPTS, Executor, TaskDone, choose_cores, hideable, task_for
from grader.batch.finals_round import RoundTask, run_round, stop_rounds
from grader.batch.finals_select import choose_finalists
from grader.batch.outputs import load_results
from grader.batch.progress import BatchLog
from grader.batch.summary import RESULTS_DIR
from grader.errors import UsageError
from grader.grading.config import GradingConfig
from grader.grading.grade import content_sha256
from grader.grading.result import CheckStatus, GradeResult
from grader.harness.contention import QUIET_WAIT_S
from grader.intake.class_folder import discover_submissions
from grader.publish.finals import (FINALS_FILE, Finals, FinalsGrading, FinalsRound, build_finals,
                                   finals_document)
from grader.publish.boards import clip_reason, unranked_reason
from grader.publish.finals_render import finals_html, finals_markdown
from grader.publish.leaderboard import SPEED_GROUP_PREFIX
from grader.sandbox.placement import NO_QUIET_WAIT

ROUNDS_DIR = "finals-rounds"
PLAN_FILE = "plan.json"


def round_order(finalists: list[str], seed: int, round_number: int) -> list[str]:
    """Round ``round_number``'s order: the finalists (by id) shuffled from (seed, round)."""
    order = sorted(finalists)
    random.Random(f"{seed}:{round_number}").shuffle(order)
    return order


def finals_config(config: GradingConfig) -> GradingConfig:
    """The grading configuration of a finals grading: the course's, with one hidden case
    and no what-if feedback (timing is what the finals are for)."""
    raw = config.model_dump(mode="json")
    raw["hidden_cases"] = 1
    raw["what_if"] = {**raw.get("what_if", {}), "enabled": False}
    return GradingConfig.model_validate(raw)


def grading_figure(result: GradeResult, calls: list[str], round_number: int = 0,
                   ) -> tuple[float | None, dict, bool, str | None, bool]:
    """(figure, each call's speedup, contended, why no figure, out) of one finals grading.
    ``out``: the student's code failed a check or was not timed, which puts it out of the
    finals: dropping only that round would let code that raises when it runs slow choose
    its rounds. A grader failure (not gradable) only leaves the round without a figure."""
    speedups = {call: next((t.speedup_vs_reference for t in result.timing if t.call == call and t.measured), None)
                for call in calls}
    contended = any(t.contended_pairs > 0 for t in result.timing if t.call in calls)
    if not result.gradable:
        return None, speedups, contended, "not gradable: the grader failed", False
    failed = [c for c in result.checks if not c.group.startswith(SPEED_GROUP_PREFIX) and c.status != CheckStatus.PASSED]
    missing = [call for call, speedup in speedups.items() if speedup is None or speedup <= 0]
    if result.failure is not None or failed or missing:
        # The board's own words for it: bounded, and never the student's text.
        why = unranked_reason(result, "failed_correctness") if result.failure or failed else (
            f"{missing[0]} was not timed")
        return None, speedups, contended, clip_reason(f"failed in finals round {round_number}: {why}"), True
    return math.exp(sum(math.log(s) for s in speedups.values()) / len(speedups)), speedups, contended, None, False


def run_finals(results_dir: Path, out_dir: Path, *, sandbox_name: str, config: GradingConfig, top: int = 10,
               rounds: int = 5, seed: int | None = None, scheduler: str | None = None,
               submissions: Path | None = None, progress: bool = True, cores: list[int] | None = None) -> Finals:
    """The finals of a graded class into ``out_dir`` (see the module doc). ``cores``: the
    in-process cluster's slots (default: one per usable core; rounds still take turns)."""
    if rounds < 1:  # the command asks for two at least; one at a time lets a caller act between rounds
        raise UsageError(f"--rounds must be at least 1, got {rounds}")
    batch_dir, results_folder = _results_folders(Path(results_dir))
    out_dir = Path(out_dir)
    if out_dir.resolve() == results_folder.resolve():
        raise UsageError("--out must not be the results folder itself: the finals never write into it")
    log = BatchLog(progress)
    results = load_results(results_folder, log)
    if not results:
        raise UsageError(f"no stored results in {results_folder}")
    state = out_dir / ROUNDS_DIR
    plan = _plan(state, results, top, seed, config, log)
    _same_grading(plan, results, config, state)
    ids = sorted(plan["finalists"])
    paths = _submission_paths(submissions or _class_folder(batch_dir), plan["finalists"], config)
    done = _completed_rounds(state, plan, log)
    pending = [r for r in range(1, rounds + 1) if r not in done]
    log.message(f"finals: {len(ids)} finalists, {rounds} rounds (seed {plan['seed']}); "
                f"{len(done)} round(s) already done, {len(pending)} to run")
    if pending:
        _run_rounds(pending, plan, paths, finals_config(config), sandbox_name, scheduler, state, done, log,
                    hide=hideable((paths[ids[0]].parent, results_folder, out_dir)), cores=cores)
    finals = build_finals(assignment=results[0].assignment, calls=plan["calls"], seed=plan["seed"],
                          rounds_planned=rounds, top=plan["top"], finalists=plan["finalists"],
                          rounds=[done[r] for r in sorted(done) if r <= rounds], title=config.course.title)
    document = finals.model_dump(mode="json")
    jsonschema.validate(document, finals_schema())
    write_atomic(out_dir / FINALS_FILE, finals_document(finals))
    write_atomic(out_dir / "finals.md", finals_markdown(finals))
    write_atomic(out_dir / "finals.html", finals_html(finals))
    log.close()
    return finals


def finals_schema() -> dict:
    from grader.publish.schemas import DEFAULT_DIRECTORY

    path = DEFAULT_DIRECTORY / "finals.schema.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else Finals.model_json_schema()


# ------------------------------------------------------------------ the plan and the rounds


def _results_folders(path: Path) -> tuple[Path, Path]:
    """(the batch's output folder, its results/ folder) from either."""
    if (path / RESULTS_DIR).is_dir():
        return path, path / RESULTS_DIR
    if path.name == RESULTS_DIR and path.is_dir():
        return path.parent, path
    raise UsageError(f"no results/ folder in {path}: give a grade-all output folder")


def _plan(state: Path, results: list[GradeResult], top: int, seed: int | None, config: GradingConfig,
          log: BatchLog) -> dict:
    """The stored plan (a rerun keeps its finalists, seed and calls), else a new one."""
    path = state / PLAN_FILE
    if path.is_file():
        plan = json.loads(path.read_text(encoding="utf-8"))
        if seed is not None and seed != plan["seed"]:
            raise UsageError(f"the finals in {state.parent} were started with seed {plan['seed']}; rerun with that "
                             "seed (or none) to continue them, or give another --out for new finals")
        if top != plan["top"]:
            log.message(f"continuing the finals started with --top {plan['top']} (their finalists are kept)")
        return plan
    finalists, calls = choose_finalists(results, top, config.course.rank_by)
    chosen = {f.student_id for f in finalists}
    _graded_with(config, [r for r in results if r.submission.id in chosen])  # before a plan is kept
    plan = {"seed": seed if seed is not None else secrets.randbits(31), "top": top, "calls": calls,
            "config_hash": config.config_hash(),
            "finalists": {f.student_id: {"sha256": f.sha256, "board_rank": f.board_rank, "seed": f.seed}
                          for f in finalists}}
    state.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(plan, indent=2) + "\n")
    return plan


def _graded_with(config: GradingConfig, results: list[GradeResult]) -> None:
    want = config.config_hash()
    graded = sorted({result.config_hash for result in results})
    if any(h != want for h in graded):
        raise UsageError(f"the stored results were graded with configuration {', '.join(graded)}, but these finals' "
                         f"configuration is {want}: give the --config the class was graded with")


def _same_grading(plan: dict, results: list[GradeResult], config: GradingConfig, state: Path) -> None:
    """Refuse finals whose configuration is not the one the finalists were graded with (a
    forgotten --config would time them under other settings), and a stored plan whose
    configuration or submissions are not those of the stored results any more (a regrade)."""
    want = config.config_hash()
    by_id = {result.submission.id: result for result in results}
    _graded_with(config, [by_id[i] for i in plan["finalists"] if i in by_id])
    changed = sorted(i for i, f in plan["finalists"].items()
                     if i not in by_id or by_id[i].submission.sha256 != f["sha256"])
    if plan.get("config_hash") != want or changed:
        what = (f"finalists regraded since: {', '.join(changed)}" if changed else
                f"configuration {plan.get('config_hash') or 'unrecorded'}, now {want}")
        raise UsageError(f"the finals in {state.parent} were planned for other gradings ({what}): remove "
                         f"{state}/ or choose another --out")


def _class_folder(batch_dir: Path) -> Path:
    summary = batch_dir / "summary.json"
    folder = json.loads(summary.read_text(encoding="utf-8")).get("submissions_dir") if summary.is_file() else None
    if not folder or not Path(folder).is_dir():
        raise UsageError(f"cannot find the class's submissions (no usable submissions_dir in {summary}); "
                         "give them with --submissions")
    return Path(folder)


def _submission_paths(folder: Path, finalists: dict[str, dict], config: GradingConfig) -> dict[str, Path]:
    """Each finalist's entry in the class folder, refusing any that changed since it was graded."""
    students = {s.id: s.path for s in discover_submissions(Path(folder))[0]}
    missing = sorted(set(finalists) - set(students))
    if missing:
        raise UsageError(f"finalists not in {folder}: {', '.join(missing)}")
    changed = [i for i in sorted(finalists) if content_sha256(students[i], config) != finalists[i]["sha256"]]
    if changed:
        raise UsageError(f"submissions changed since they were graded: {', '.join(changed)}; regrade them "
                         "(grade-all) and start new finals")
    return {i: students[i] for i in finalists}


def _completed_rounds(state: Path, plan: dict, log: BatchLog) -> dict[int, FinalsRound]:
    """The stored rounds of this plan (its finalists, seed, configuration and submissions); an
    unreadable round file (a crash mid-write, a stray edit) or another plan's is run again."""
    done = {}
    for path in sorted(state.glob("round-*.json")):
        try:
            finals_round = FinalsRound.model_validate_json(path.read_bytes())
        except (OSError, ValueError) as exc:
            log.message(f"{path.name} is unreadable ({type(exc).__name__}): its round is run again")
            continue
        if (sorted(finals_round.order) == sorted(plan["finalists"]) and finals_round.seed == plan["seed"]
                and finals_round.config_hash == plan.get("config_hash")
                and finals_round.sha256 == {i: f["sha256"] for i, f in plan["finalists"].items()}):
            done[finals_round.round] = finals_round
        else:
            log.message(f"{path.name} is not of this plan: its round is run again")
    return done


def _run_rounds(pending: list[int], plan: dict, paths: dict[str, Path], config: GradingConfig, sandbox_name: str,
                scheduler: str | None, state: Path, done: dict[int, FinalsRound], log: BatchLog,
                hide: tuple[Path, ...], cores: list[int] | None) -> None:
    """Every pending round as a task; each stored as it completes (retried MAX_ATTEMPTS times)."""
    executor = (Executor.remote(scheduler) if scheduler
                else Executor.local(cores or choose_cores(None)[0], sandbox_name))
    # Finals are compared head to head: their timing waits for a quiet host wherever it runs.
    placement = replace(NO_QUIET_WAIT.hiding(*hide), quiet_wait_s=QUIET_WAIT_S)
    futures: dict = {}

    def submit(round_number: int, attempt: int) -> None:
        order = round_order(list(plan["finalists"]), plan["seed"], round_number)
        gradings = tuple(task_for(i, paths[i], config, plan["finalists"][i]["seed"], executor.batch,
                                  attempt=attempt, placement=placement) for i in order)
        task = RoundTask(round_number, gradings, executor.batch)
        futures[executor.submit(task, run=run_round, name=f"finals-round-{round_number}")] = (round_number, attempt)

    try:
        for round_number in pending:
            submit(round_number, 1)
        for future, outcome in executor.completed():
            round_number, attempt = futures.pop(future)
            if isinstance(outcome, TaskDone):
                finals_round = _finals_round(round_number, json.loads(outcome.result_json), plan)
                write_atomic(state / f"round-{round_number}.json", finals_round.model_dump_json(indent=2) + "\n")
                done[round_number] = finals_round
                log.message(f"round {round_number} done on {finals_round.host}: "
                            + ", ".join(f"{g.student_id} {g.figure:.3f}" if g.figure else f"{g.student_id} -"
                                        for g in finals_round.gradings))
            elif attempt < MAX_ATTEMPTS:
                log.message(f"round {round_number}: {outcome.message}; running it again")
                submit(round_number, attempt + 1)
            else:
                log.message(f"round {round_number}: {outcome.message}; left for a rerun")
            if not futures:
                break
    except BaseException:  # an interruption or a lost scheduler: rounds done are kept, the rest stopped
        with contextlib.suppress(Exception):
            executor.client.run(stop_rounds, executor.batch, on_error="return")
        executor.stop(list(futures), log=log.message)
        raise
    finally:
        executor.close()


def _finals_round(round_number: int, gradings: list[dict], plan: dict) -> FinalsRound:
    """A round's answer from the worker, checked: every finalist once, each result its own."""
    rows = []
    for done in gradings:
        result = GradeResult.model_validate_json(done["result"])
        student = done["student_id"]
        if result.submission.id != student or result.submission.sha256 != plan["finalists"][student]["sha256"]:
            raise UsageError(f"round {round_number}: the grading of {student} is not of its graded submission")
        figure, speedups, contended, reason, out = grading_figure(result, plan["calls"], round_number)
        rows.append(FinalsGrading(student_id=student, host=done["host"], started=done["started"],
                                  finished=done["finished"], figure=figure, speedups=speedups, contended=contended,
                                  reason=reason, out=out, retried=bool(done.get("retried"))))
    hosts = {row.host for row in rows}
    return FinalsRound(round=round_number, order=[row.student_id for row in rows], host=", ".join(sorted(hosts)),
                       gradings=rows, seed=plan["seed"], config_hash=plan["config_hash"],
                       sha256={i: f["sha256"] for i, f in plan["finalists"].items()})
