"""Forbidden calls in a submission (``forbidden`` in the configuration), found two ways:

- statically, here on the host, in the submission's source: imports and attribute chains,
  with every way of naming a module resolved (``import scipy.signal as s``,
  ``from scipy import signal as s``, ``from scipy.signal import correlate as c``, a
  module-level ``c = s.correlate``, relative imports inside a package, and
  ``importlib.import_module("scipy.signal")`` with a constant name);
- at run time, by a profile hook in the student's worker during the correctness checks
  (``grader.harness.call_watch``), which knows the forbidden functions by identity, whatever
  module their code lives in: observed evidence, which code in that process can evade. A
  check call that returned with the hook removed or replaced is marked (``hook_tampering``).

Each use is attributed to the graded function that reaches it (its own body, or a helper
it calls by name); the policy decides whether evidence only flags (staff view) or zeroes
that function's checks. Evidence never reaches a public board or the student's feedback.

The static review parses every .py of the submission: host-side work on the student's
text, so a grading runs it in a child with its own time, memory and output limits
(grader.intake.host_budget, ``review_bounded``). When it does not finish, only the run-time
evidence counts and the grading says so in a note: the file's doing, not the grader's.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grader.harness import assignments
from grader.intake.host_budget import Budget, BudgetExceeded, GiB, MiB, run_bounded
from grader.intake.quiet_compiler import quiet_compiler
from grader.grading.result import Check, CheckStatus, ForbiddenUse, HookTampering, Integrity

MAX_FILES = 200
MAX_FILE_BYTES = 2_000_000
MAX_USES = 60
BUDGET = Budget(wall_s=20.0, cpu_s=15, memory_bytes=2 * GiB, output_bytes=4 * MiB)


def matches(name: str, patterns: list[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in patterns)


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ['a', 'b', 'c'], or None when it is not a plain chain of names."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def _package_of(relative: Path) -> list[str]:
    return list(relative.parent.parts)


def _aliases(tree: ast.Module, package: list[str]) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from every import in the file and from
    module-level assignments of a resolvable chain."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:  # `import scipy.signal` binds `scipy`
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
                base = ".".join([*parent, *([base] if base else [])])
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    for node in tree.body:  # c = s.correlate
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            chain = _chain(node.value)
            if chain and chain[0] in names:
                names[node.targets[0].id] = ".".join([names[chain[0]], *chain[1:]])
    return names


_LEAVE_FUNCTION = object()  # on the walk's stack: the function whose children were just walked ends here


class _Uses:
    """Forbidden names used in one file, each with its line and enclosing function.

    The walk keeps its own stack instead of recursing (as ``ast.NodeVisitor`` does): a valid
    file of a few KB nests deeper than Python's recursion limit, and what the student's text
    can do to this analysis must never become the grader's failure. It visits the nodes in
    the order ``NodeVisitor.generic_visit`` would (fields in order, each list in order)."""

    def __init__(self, names: dict[str, str], patterns: list[str], package: list[str]):
        self.names, self.patterns, self.package = names, patterns, package
        self.stack: list[str] = []
        self.found: list[tuple[str, int, str]] = []  # (enclosing function or '', line, dotted name)
        self.calls: dict[str, set[str]] = {}  # function -> names it calls

    def _enclosing(self) -> str:
        return self.stack[0] if self.stack else ""

    def visit(self, tree: ast.AST) -> None:
        todo: list = [tree]
        while todo:
            node = todo.pop()
            if node is _LEAVE_FUNCTION:
                self.stack.pop()
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.stack.append(node.name)
                self.calls.setdefault(self.stack[0], set())
                todo.append(_LEAVE_FUNCTION)
            elif isinstance(node, ast.Import):
                self._import(node)
                continue
            elif isinstance(node, ast.ImportFrom):
                self._import_from(node)
                continue
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Attribute):
                chain = _chain(node)
                if chain is not None:
                    self._name(chain, node.lineno)  # the longest chain only: its parts are not visited again
                    continue
            elif isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    self._name([node.id], node.lineno)
                continue
            todo.extend(reversed(list(ast.iter_child_nodes(node))))

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            if matches(alias.name, self.patterns):
                self.found.append((self._enclosing(), node.lineno, alias.name))

    def _import_from(self, node: ast.ImportFrom) -> None:
        aliases = _aliases(ast.Module(body=[node], type_ignores=[]), self.package)
        for full in aliases.values():
            if matches(full, self.patterns):
                self.found.append((self._enclosing(), node.lineno, full))

    def _call(self, node: ast.Call) -> None:
        chain = _chain(node.func)
        if chain and self.stack:
            self.calls[self.stack[0]].add(chain[-1])
        # importlib.import_module("scipy.signal") / __import__("scipy.signal")
        target = ".".join([self.names.get(chain[0], chain[0]), *chain[1:]]) if chain else ""
        if target in ("importlib.import_module", "__import__") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and matches(first.value, self.patterns):
                self.found.append((self._enclosing(), node.lineno, first.value))

    def _name(self, chain: list[str], line: int) -> None:
        if chain[0] in self.names:
            full = ".".join([self.names[chain[0]], *chain[1:]])
            if matches(full, self.patterns):
                self.found.append((self._enclosing(), line, full))


def _reached(calls: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [callee for callee in calls.get(name, ()) if callee in calls]
    return seen


def static_uses(root: Path, patterns: list[str], student_functions: dict[str, str] | None = None
                ) -> list[ForbiddenUse]:
    """Every forbidden name in the submission's Python files, attributed to a graded function
    (``student_functions``: the pack's, {call name: function name}; default: the default pack's)."""
    student_functions = student_functions or assignments.default().STUDENT_FUNCTIONS
    if not patterns:
        return []
    found, calls = [], {}
    for path in sorted(root.rglob("*.py"))[:MAX_FILES]:
        try:
            if path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            with quiet_compiler():
                tree = ast.parse(text)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        relative = path.relative_to(root)
        package = _package_of(relative)
        visitor = _Uses(_aliases(tree, package), patterns, package)
        visitor.visit(tree)
        for function, line, name in visitor.found:
            found.append((function, str(relative), line, name))
        for function, callees in visitor.calls.items():
            calls.setdefault(function, set()).update(callees)
    reach = {fn: _reached(calls, name) for fn, name in student_functions.items()}
    uses, seen = [], set()
    for function, file, line, name in found:
        owners = [fn for fn, reached in reach.items() if function and function in reached] or ["module"]
        for owner in owners:
            if (owner, file, line, name) not in seen:
                seen.add((owner, file, line, name))
                uses.append(ForbiddenUse(function=owner, how="static", call=name, file=file, line=line))
    return uses[:MAX_USES]


def runtime_uses(observed: list[dict], calls: tuple[str, ...]) -> list[ForbiddenUse]:
    """The harness's (already bounded and cleaned) run-time evidence as uses, for the pack's calls."""
    return [ForbiddenUse(function=item["function"], how="run time", call=f"{item['module']}.{item['name']}",
                         file=item["file"], line=item["line"], count=item["count"])
            for item in observed[:MAX_USES] if item.get("function") in calls and "hook" not in item]


def hook_tampering(observed: list[dict], calls: tuple[str, ...]) -> list[HookTampering]:
    """Check calls after which the watch's hook was removed or replaced, per function and kind."""
    return [HookTampering(function=item["function"], what=item["hook"], calls=item["count"])
            for item in observed[:MAX_USES]
            if item.get("function") in calls and item.get("hook") in ("removed", "replaced")]


def review(root: Path, observed: list[dict], patterns: list[str], policy: str,
           student_functions: dict[str, str] | None = None) -> Integrity | None:
    """The staff's integrity block, or None when the course forbids nothing."""
    return review_bounded(root, observed, patterns, policy, student_functions)[0]


def review_bounded(root: Path, observed: list[dict], patterns: list[str], policy: str,
                   student_functions: dict[str, str] | None = None, budget: Budget | None = None
                   ) -> tuple[Integrity | None, str | None]:
    """The integrity block (None when the course forbids nothing), with the static review
    made in a bounded child; and a note for the student when that review stopped."""
    if not patterns:
        return None, None
    functions = student_functions or assignments.default().STUDENT_FUNCTIONS
    calls = tuple(functions)  # the pack's call names, in its order
    static, note = _static_bounded(root, patterns, functions, budget or BUDGET)
    uses = static + runtime_uses(observed, calls)
    zeroed = sorted({u.function for u in uses if u.function != "module"}) if policy == "zero" else []
    # A removed or replaced hook is marked, not scored: what it hid is unknown, and the
    # student's process can hide the removal as well.
    return Integrity(forbidden=list(patterns), policy=policy, uses=uses, zeroed=zeroed,
                     hook_tampering=hook_tampering(observed, calls)), note


def _static_bounded(root: Path, patterns: list[str], student_functions: dict[str, str],
                    budget: Budget) -> tuple[list[ForbiddenUse], str | None]:
    request = {"root": str(Path(root).resolve()), "patterns": list(patterns), "functions": dict(student_functions)}
    try:
        answer = run_bounded("grader.grading.forbidden:static_in_child", request, budget)
        if not isinstance(answer, list) or len(answer) > MAX_USES:
            raise BudgetExceeded("crash", budget, "a malformed answer")
        return [ForbiddenUse.model_validate(item) for item in answer], None  # the models check each field
    except (BudgetExceeded, ValueError) as exc:
        if isinstance(exc, BudgetExceeded) and exc.what != "crash":
            how = "stopped: your files are nested too deeply to analyse" if exc.what == "depth" else exc.describe()
            return [], (f"the course's review of your files for forbidden calls {how}; only what the run-time "
                        "watch saw of your calls counts")
        return [], f"the course's review of your files for forbidden calls failed (a grader error, not your code): {exc}"


def static_in_child(request: dict) -> list[dict]:
    """In the child (grader.intake.host_budget): static_uses as plain data."""
    uses = static_uses(Path(request["root"]), request["patterns"], request["functions"])
    return [use.model_dump(mode="json") for use in uses]


def zero(checks: list[Check], functions: list[str], student_functions: dict[str, str] | None = None) -> list[Check]:
    """The zero policy: every check of these functions fails with no points, saying why
    (not which call: the evidence is for staff)."""
    names = student_functions or assignments.default().STUDENT_FUNCTIONS
    message = ("scored 0: the course forbids a call this function makes (see the course's rules; "
               "staff have the details)")
    return [check.model_copy(update={"score": 0.0, "status": CheckStatus.FAILED,
                                     "message": f"{names[check.call]} {message}"})
            if check.call in functions else check for check in checks]
