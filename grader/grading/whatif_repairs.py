"""The what-if's repairs of a student's text, made under a budget (grader.intake.host_budget).

Repairing parses the student's text, walks its tree and rewrites it (grader.intake.repair), and
finding the modules it imports that nothing provides parses it again: host-side work on
untrusted text, linear but not cheap (a 5 MiB file takes seconds a round), and a file
can be nested deeply enough to exhaust Python's recursion. So every text a what-if round
repairs (the entry, or a notebook's other cells, or the other modules of the entry's
package) goes to one child with its own time, memory and output limits, all of them in
one call. What the child answers is checked field by field before it is used.

    repair_texts(texts, rules, own_modules, budget) -> [(Repaired, missing), ...]
        raises WhatIfStopped when the child did not finish within its budget
    SharedRepairBudget(budget).repair(texts, rules, own_modules)
        the same, every call of a what-if drawing on one wall budget
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, replace

from grader.intake.host_budget import Budget, BudgetExceeded, GiB, MiB, run_bounded
from grader.intake.repair import RULES, Repair, Repaired, repair_source

# Like the feedback analysis's: a round of a real file takes well under a second.
BUDGET = Budget(wall_s=20.0, cpu_s=15, memory_bytes=2 * GiB, output_bytes=64 * MiB)
# Of each repair's before/after text, as the what-if shows it (a line can be 5 MB long): clipped
# in the child, so the answer stays within a small multiple of the file's size.
REPAIR_TEXT_CHARS = 160


@dataclass(frozen=True)
class RepairRules:
    """How a round repairs: the entry's rules, which its package's other modules get too."""

    python2: bool
    missing: frozenset[str]
    """Modules known to be missing; those the text imports and nobody provides are added."""
    side: int | None
    """The merge-conflict side to keep, or None."""
    beside: frozenset[str]
    """Modules only a relative import reaches (never missing)."""


class WhatIfStopped(Exception):
    """The repairs did not finish within their budget: the what-if is given up, for a reason of the file's."""

    def __init__(self, stopped: BudgetExceeded):
        super().__init__(stopped.describe())
        self.stopped = stopped

    def note(self) -> str:
        """What the student reads in place of the what-if."""
        if self.stopped.what == "depth":
            how = "stopped: your file is nested too deeply for the what-if to read it"
        else:
            how = self.stopped.describe()  # 'stopped after 20 s (its time limit)' and the like
        return f"what-if feedback on your file {how}; no what-if for this grading (your checks and score are not affected)"


def repair_texts(texts: list[str], rules: RepairRules, own_modules: frozenset[str],
                 budget: Budget | None = None) -> list[tuple[Repaired, frozenset[str]]]:
    """Each text repaired with ``rules`` (and the modules it imports that neither the grading
    environment nor ``own_modules`` provides counted missing), in one bounded child; with
    each, the missing modules its repair assumed."""
    budget = budget or BUDGET
    if not texts:
        return []
    request = {"texts": texts, "python2": rules.python2, "missing": sorted(rules.missing), "side": rules.side,
               "beside": sorted(rules.beside), "own_modules": sorted(own_modules)}
    try:
        answer = run_bounded("grader.grading.whatif_repairs:repair_in_child", request, budget)
        return _checked(answer, len(texts))
    except BudgetExceeded as exc:
        if exc.what == "crash":  # our own code failed, not the student's file
            raise RuntimeError(f"the what-if's repairs failed: {exc.detail or 'no answer'}") from exc
        raise WhatIfStopped(exc) from exc


class SharedRepairBudget:
    """One wall budget for all the repairs of a what-if (every round, both sides of a
    conflict, the neighbours): a file slow to repair costs a grading at most ``wall_s``
    of repairs, however many rounds it takes."""

    def __init__(self, budget: Budget | None = None):
        self.budget = budget or BUDGET  # read when the what-if starts (tests set a small one)
        self.spent = 0.0

    def repair(self, texts: list[str], rules: RepairRules, own_modules: frozenset[str]
               ) -> list[tuple[Repaired, frozenset[str]]]:
        left = replace(self.budget, wall_s=max(0.1, self.budget.wall_s - self.spent))
        started = time.monotonic()
        try:
            return repair_texts(texts, rules, own_modules, left)
        except WhatIfStopped as exc:  # told against the whole budget, not what was left of it
            raise WhatIfStopped(BudgetExceeded(exc.stopped.what, self.budget, exc.stopped.detail)) from exc
        finally:
            self.spent += time.monotonic() - started


def _checked(answer: object, count: int) -> list[tuple[Repaired, frozenset[str]]]:
    """The child's answer as Repaired values, each field checked: it is computed from the student's text."""
    if not (isinstance(answer, list) and len(answer) == count):
        raise BudgetExceeded("crash", BUDGET, "a malformed answer")
    done = []
    for item in answer:
        if not (isinstance(item, dict) and isinstance(item.get("text"), str) and isinstance(item.get("repairs"), list)
                and (item.get("error") is None or isinstance(item["error"], str))
                and isinstance(item.get("python2"), bool) and isinstance(item.get("missing"), list)
                and all(isinstance(name, str) for name in item["missing"])):
            raise BudgetExceeded("crash", BUDGET, "a malformed answer")
        repaired = Repaired(item["text"], [_repair(r) for r in item["repairs"]], item["error"], item["python2"])
        done.append((repaired, frozenset(item["missing"])))
    return done


def _repair(item: object) -> Repair:
    if not (isinstance(item, dict) and type(item.get("line")) is int and item.get("rule") in RULES
            and isinstance(item.get("before"), str) and isinstance(item.get("after"), str)
            and (item.get("end_line") is None or type(item["end_line"]) is int)):
        raise BudgetExceeded("crash", BUDGET, "a malformed repair")
    return Repair(line=item["line"], rule=item["rule"], before=item["before"], after=item["after"],
                  end_line=item["end_line"])


def repair_in_child(request: dict) -> list[dict]:
    """In the child (grader.intake.host_budget): every text repaired, as plain data."""
    done = []
    own, beside = frozenset(request["own_modules"]), frozenset(request["beside"])
    for text in request["texts"]:
        missing = (frozenset(request["missing"]) | unavailable_imports(text, own)) - beside
        repaired = repair_source(text, python2=request["python2"], missing_modules=missing,
                                 conflict_side=request["side"], beside=beside)
        done.append({"text": repaired.text, "error": repaired.error, "python2": repaired.python2,
                     "missing": sorted(missing),
                     "repairs": [{"line": r.line, "rule": r.rule, "before": clipped(r.before), "after": clipped(r.after),
                                  "end_line": r.end_line} for r in repaired.repairs]})
    return done


def unavailable_imports(source: str, own_modules: frozenset[str]) -> frozenset[str]:
    """Top-level modules the file imports that neither the grading environment nor the
    submission provides (the host's Python is the process sandbox's Python; a module the
    Docker image lacks shows up as the copy's import error, and is dropped next round)."""
    from grader.intake.hints import SourceContext
    from grader.intake.notebook import host_has_module

    tree = SourceContext("", source).tree()
    if tree is None:
        return frozenset()  # e.g. Python 2 syntax: grader.intake.repair parses the repaired text again
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return frozenset(n for n in names if n not in own_modules and not host_has_module(n))


def clipped(text: str) -> str:
    return text if len(text) <= REPAIR_TEXT_CHARS else text[: REPAIR_TEXT_CHARS - 3] + "..."
