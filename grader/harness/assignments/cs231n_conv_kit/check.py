"""Check your convolution layers before you submit: python check.py layers.py

Runs the notebook's two cases and a few fixed public cases, with the grader's own
messages and hints; checks your backward against numerical gradients of your forward;
and compares your speed with numpy's own matrix product of the same shape.
Needs Python 3.9+ and numpy only. Options: --no-speed (skip the timing).

Passing here does not promise full marks: the grader also runs hidden cases.
"""

import os

# One BLAS thread, as in the grader's timed processes: set before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import importlib.util  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

KIT = Path(__file__).resolve().parent
sys.path.insert(0, str(KIT))

from kit import diagnosis, gradient, speed  # noqa: E402
from kit.call_outcome import CallOutcome, Returned  # noqa: E402
from kit.checks import compare  # noqa: E402
from kit.exception_text import describe_exception, type_name  # noqa: E402
from kit.call_messages import describe_failure  # noqa: E402
from kit.grader_messages import Case  # noqa: E402
from kit.hints import SourceContext, with_hint  # noqa: E402

ASSIGNMENT = json.loads((KIT / "kit" / "assignment.json").read_text(encoding="utf-8"))
FORWARD, BACKWARD = ASSIGNMENT["functions"]["forward"], ASSIGNMENT["functions"]["backward"]


def package_root(path: Path) -> tuple[Path, list[str]]:
    """(the folder above the file's package, the module's dotted parts): cs231n/layers.py is
    the module cs231n.layers, as the grader imports it, so relative imports work."""
    path = path.resolve()
    package_dir, parts = path.parent, [path.stem]
    while (package_dir / "__init__.py").is_file():
        parts.insert(0, package_dir.name)
        package_dir = package_dir.parent
    return package_dir, parts


def load_student(path: Path):
    package_dir, parts = package_root(path)
    sys.path.insert(0, str(package_dir))
    if len(parts) > 1:
        return importlib.import_module(".".join(parts))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def returned(value) -> Returned:
    if value is None:
        return Returned("none")
    if not isinstance(value, np.ndarray):
        return Returned("other", type_name=type_name(value))
    return Returned("array", type_name="numpy.ndarray", dtype_name=value.dtype.name, shape=tuple(value.shape),
                    array=np.array(value, copy=True))


def call(function, args, labels, root: Path):
    """(outcome, raw values): the call's results by label, as the grader's harness sees them."""
    started = time.perf_counter()
    try:
        value = function(*args)
    except Exception as exc:  # the student's exception, described as the grader does
        return CallOutcome("raised", time.perf_counter() - started, error=describe_exception(exc, str(root))), None
    elapsed = time.perf_counter() - started
    values = value if isinstance(value, tuple) else (value,)
    if len(values) != len(labels):
        return CallOutcome("bad_return", elapsed, message=f"returned {len(values)} value(s), expected "
                           f"{len(labels)} ({', '.join(labels)})"), None
    results = {label: returned(item) for label, item in zip(labels, values)}
    return CallOutcome("ok", elapsed, results=results), values


def load_cases() -> list[tuple[Case, dict]]:
    data = np.load(KIT / "kit" / "cases.npz")
    cases = []
    for case_id in ASSIGNMENT["cases"]:
        get = lambda name: data[f"{case_id}/{name}"]  # noqa: E731
        pad, stride = (int(v) for v in get("pad_stride"))
        graded = tuple(name for name, on in zip(("forward", "backward"), get("graded")) if on)
        group = "notebook" if case_id.startswith("notebook") else "public"
        case = Case(case_id, group, get("x"), get("w"), get("b"), get("dout"), {"stride": stride, "pad": pad}, graded)
        expected = {label: get("expected_" + label) for label in ("out", "dx", "dw", "db")}
        cases.append((case, expected))
    return cases


class Report:
    def __init__(self, context: SourceContext):
        self.context, self.passed, self.failed, self.hinted = context, 0, 0, False
        self.failing = {"forward": set(), "backward": set()}

    def record(self, case: Case, function: str, ok: bool, message: str) -> None:
        if ok:
            self.passed += 1
            print(f"  ok    {message}")
            return
        self.failed += 1
        self.failing[function].add(case.id)
        if not self.hinted:  # the grader adds its hint to the first error too
            hinted = with_hint(message, self.context)
            self.hinted = hinted != message
            message = hinted
        print("  FAIL  " + message.replace("\n", "\n        "))


def check_case(module, case: Case, expected: dict, report: Report, root: Path, tolerance: float) -> None:
    forward, backward = getattr(module, FORWARD), getattr(module, BACKWARD)
    out_labels = ASSIGNMENT["results"]["forward"] + ["cache"]
    fwd, values = call(forward, (case.x.copy(), case.w.copy(), case.b.copy(), dict(case.conv_param)), out_labels, root)
    if "forward" in case.graded:
        check(report, case, "forward", "out", fwd, expected["out"], FORWARD, tolerance)
    if "backward" not in case.graded:
        return
    cache = values[1] if fwd.ok else (case.x.copy(), case.w.copy(), case.b.copy(), dict(case.conv_param))
    bwd, _ = call(backward, (case.dout.copy(), cache), ASSIGNMENT["results"]["backward"], root)
    for label in ASSIGNMENT["results"]["backward"]:
        check(report, case, "backward", label, bwd, expected[label], BACKWARD, tolerance)


def check(report, case, function, label, outcome, expected, name, tolerance) -> None:
    if outcome.ok:
        verdict = compare(label, outcome.results[label], expected, tolerance, case.where)
        report.record(case, function, verdict.passed, f"{case.id}: {verdict.message}")
    else:
        report.record(case, function, False, f"{case.id}: {describe_failure(outcome, name, 0, case.where)}")


def check_gradients(module, case: Case) -> None:
    """The notebook's numerical gradient check, on its own backward case."""
    forward, backward = getattr(module, FORWARD), getattr(module, BACKWARD)
    try:
        _, cache = forward(case.x.copy(), case.w.copy(), case.b.copy(), dict(case.conv_param))
        dx, dw, db = backward(case.dout.copy(), cache)
        errors = gradient.gradient_errors(forward, case.x, case.w, case.b, case.conv_param, case.dout,
                                          {"dx": np.asarray(dx), "dw": np.asarray(dw), "db": np.asarray(db)})
    except Exception as exc:  # shown, never hidden: the checks above say more
        print(f"  skipped: {type(exc).__name__}: {str(exc)[:200]}")
        return
    for label, error in errors.items():
        verdict = "ok  " if error <= gradient.TOLERANCE else "FAIL"
        print(f"  {verdict}  {label} against numerical gradients of your forward: rel_error {error:.2e} "
              f"(tolerance {gradient.TOLERANCE:.0e})")


def check_speed(module) -> None:
    size = ASSIGNMENT["speed_size"]
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(size["x"]), rng.standard_normal(size["w"])
    b, param = rng.standard_normal(size["w"][0]), dict(size["conv_param"])
    forward, backward = getattr(module, FORWARD), getattr(module, BACKWARD)
    try:
        forward_s, trials = speed.best_time(lambda: forward(x, w, b, dict(param)))
        out, cache = forward(x, w, b, dict(param))
        dout = rng.standard_normal(np.shape(out))
        backward_s, _ = speed.best_time(lambda: backward(dout, cache))
    except Exception as exc:
        print(f"  skipped: {type(exc).__name__}: {str(exc)[:200]}")
        return
    gemm_forward, gemm_backward, shape = speed.gemm_times(size["x"], size["w"], param)
    print(f"  at {ASSIGNMENT['speed_name']}, best of {trials} run(s), one BLAS thread:")
    print(f"  forward  {forward_s * 1e3:9.2f} ms; numpy GEMM {shape}: {gemm_forward * 1e3:.2f} ms "
          f"-> {speed.ratio_words(forward_s, gemm_forward)}")
    print(f"  backward {backward_s * 1e3:9.2f} ms; the two GEMMs of backward: {gemm_backward * 1e3:.2f} ms "
          f"-> {speed.ratio_words(backward_s, gemm_backward)}")
    print("  (this machine, not the grader's: the grader times you against its own reference)")


def main(argv: list[str]) -> int:
    files = [arg for arg in argv if not arg.startswith("--")]
    if len(files) != 1 or not Path(files[0]).is_file():
        print(__doc__.strip())
        return 2
    path = Path(files[0])
    text = path.read_text(encoding="utf-8", errors="replace")
    root, parts = package_root(path)
    entry = "/".join(parts[:-1] + [path.name])
    context = SourceContext(entry, text, frozenset(p.stem for p in root.iterdir()))
    try:
        module = load_student(path)
    except BaseException as exc:  # whatever importing the file raised, worded as the grader words it
        error = describe_exception(exc, str(root))
        print(with_hint(f"importing {entry} failed: {error['type']}: {error['message']}\n"
                         f"{error['traceback'].rstrip()}", context))
        return 1
    missing = [name for name in (FORWARD, BACKWARD) if not callable(getattr(module, name, None))]
    if missing:
        print(f"{path.name} does not define {' and '.join(missing)}")
        return 1

    report = Report(context)
    cases = load_cases()
    print(f"Checking {path.name}: {len(cases)} cases (the notebook's and the kit's public ones)")
    for case, expected in cases:
        check_case(module, case, expected, report, root, ASSIGNMENT["tolerance"])
    properties = {case.id: diagnosis.case_properties(case.x.shape, case.w.shape, case.conv_param["pad"],
                                                     case.conv_param["stride"]) for case, _ in cases}
    for function, name in (("forward", FORWARD), ("backward", BACKWARD)):
        graded = {case.id: props for case, props in ((c, properties[c.id]) for c, _ in cases) if function in case.graded}
        likely = diagnosis.diagnose(report.failing[function], graded)
        if likely:
            print(f"Likely bug in {name}: {likely}")
    print("Backward against numerical gradients (the notebook's check):")
    check_gradients(module, next(case for case, _ in cases if case.id == "notebook-backward"))
    if "--no-speed" not in argv:
        print("Speed:")
        check_speed(module)
    print(f"{report.passed} of {report.passed + report.failed} checks passed."
          + ("" if report.failed else " The grader also runs hidden cases."))
    return 0 if not report.failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
