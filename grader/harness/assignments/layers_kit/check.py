"""Check your layers before you submit: python check.py layers.py

Runs the notebook's cases of every layer of the assignment against expected answers
stored as data, with the grader's own messages and hints, and names the layers that
fail. Needs Python 3.9+ and numpy only.

Passing here does not promise full marks: the grader also runs hidden cases.
"""

import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

KIT = Path(__file__).resolve().parent
sys.path.insert(0, str(KIT))

from kit import dict_args  # noqa: E402
from kit.call_messages import describe_failure  # noqa: E402
from kit.call_outcome import CallOutcome, Returned  # noqa: E402
from kit.checks import compare  # noqa: E402
from kit.exception_text import describe_exception, type_name  # noqa: E402
from kit.hints import SourceContext, with_hint  # noqa: E402

ASSIGNMENT = json.loads((KIT / "kit" / "assignment.json").read_text(encoding="utf-8"))


def package_root(path: Path):
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


# A scalar result (a loss) travels as a 0-d array of its own dtype, as in the grader's worker.
SCALAR_FLOATS = (float, np.float16, np.float32, np.float64)


def result(value) -> Returned:
    """A call's result as the grader's worker describes it."""
    if type(value) in SCALAR_FLOATS:
        value = np.array(value)
    if value is None or type(value) is np.ndarray:
        return returned(value)
    return Returned("other", type_name=type_name(value))


def returned(value) -> Returned:
    """A value as the grader's worker describes it (an entry left in a dict: plain values too)."""
    if value is None:
        return Returned("none")
    if isinstance(value, np.ndarray):
        return Returned("array", type_name="numpy.ndarray", dtype_name=value.dtype.name, shape=tuple(value.shape),
                        array=np.array(value, copy=True))
    if isinstance(value, (bool, int, float, str)):
        return Returned("value", type_name=type_name(value), value=value)
    return Returned("other", type_name=type_name(value))


class Call:
    """One call of a case, as the grader's worker makes it: arguments built from their specs
    (fresh copies each time), results unpacked by the call's labels; its dict argument taken
    back as the grader's harness takes it (dict_args, the grader's own module)."""

    def __init__(self, step: dict, arrays, kept: dict, carried: dict, param: str, where: str):
        self.step, self.kept, self.param, self.where = step, kept, param, where
        # The stand-in (the starter code's own cache) when the student's earlier call kept nothing.
        specs = step["args"] if all(label in kept for label in step["needs"]) else step["stand_in"]
        # What the student's earlier calls of the case left in the dict's declared entries (a
        # running mean) replaces the case's own, as the grader carries it.
        self.specs, self.carried_arrays = dict_args.with_carried(specs, {}, param, carried)
        self.arrays = lambda name: self.carried_arrays[name] if name in self.carried_arrays else arrays(name)
        self.index = dict_args.dict_index(self.specs)

    def build(self, spec):
        if "array" in spec:
            return np.array(self.arrays(spec["array"]), copy=True)
        if "value" in spec:
            return json.loads(json.dumps(spec["value"]))
        if "kept" in spec:
            return self.kept[spec["kept"]]
        if "tuple" in spec:
            return tuple(self.build(item) for item in spec["tuple"])
        built = json.loads(json.dumps(spec["dict"]["values"]))
        built.update({key: np.array(self.arrays(name), copy=True) for key, name in spec["dict"]["arrays"].items()})
        return built

    def sent_dict(self) -> dict:
        """The dict argument as it was sent (what the call may not change but its writes)."""
        spec = self.specs[self.index]["dict"]
        return {**spec["values"], **{key: self.arrays(name) for key, name in spec["arrays"].items()}}

    def run(self, function, root: str):
        """(outcome, the dict argument as the grader takes it back, or None)."""
        args = [self.build(spec) for spec in self.specs]
        before = [a.copy() if isinstance(a, np.ndarray) else None for a in args]
        labels = self.step["results"]
        started = time.perf_counter()
        try:
            value = function(*args)
        except Exception as exc:  # the student's exception, described as the grader does
            return CallOutcome("raised", time.perf_counter() - started, error=describe_exception(exc, root)), None
        elapsed = time.perf_counter() - started
        if len(labels) == 1:
            values = [value]
        elif not isinstance(value, (tuple, list)) or len(value) != len(labels):
            count = f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""
            expected = ", ".join(label.lstrip("@") for label in labels)
            return CallOutcome("bad_return", elapsed, message=f"returned {type_name(value)}{count}, expected a tuple "
                                                              f"({expected})"), None
        else:
            values = list(value)
        results = {}
        for label, item in zip(labels, values):
            if label.startswith("@"):
                self.kept[label[1:]] = item  # the cache, for the case's later calls
            else:
                results[label] = result(item)
        changed = [spec["array"] for spec, old, new in zip(self.specs, before, args)
                   if "array" in spec and old is not None and spec["array"] not in self.step["mutable"]
                   and not (isinstance(new, np.ndarray) and new.shape == old.shape
                            and np.array_equal(new, old, equal_nan=True))]
        outcome = CallOutcome("ok", elapsed, results=results, inputs_changed=changed)
        if self.index is None:
            return outcome, None
        # (the call cannot rebind the dict it was given: it is always a dict, as the call left it)
        outcome.dicts[self.index] = {key: returned(entry) for key, entry in args[self.index].items()}
        # No room limit here: the kit reads the student's dict in its own process.
        taken = dict_args.read_back(outcome, self.index, self.sent_dict(), tuple(self.step["writes"]), self.param,
                                    self.step["function"], self.where, room=0)
        return outcome, taken


class Report:
    """Prints each check as it is made, counts them per layer, and keeps the functions of
    each layer that failed one (the summary names them)."""

    def __init__(self, context: SourceContext):
        self.context, self.hinted = context, False
        self.passed, self.failed = {}, {}  # layer key -> count
        self.failing_functions = {}  # layer key -> functions with a failed check

    def record(self, layer: str, function: str, check_id: str, ok: bool, message: str) -> None:
        counts = self.passed if ok else self.failed
        counts[layer] = counts.get(layer, 0) + 1
        if ok:
            print(f"  ok    {check_id}: {message}")
            return
        self.failing_functions.setdefault(layer, {})[function] = None
        if not self.hinted:  # the grader adds its hint to the first error too
            hinted = with_hint(message, self.context)
            self.hinted = hinted != message
            message = hinted
        print(f"  FAIL  {check_id}: " + message.replace("\n", "\n        "))


def check_layer(module, layer: dict, data, report: Report, root: str, entry: str) -> None:
    key, param = layer["key"], layer["param"]
    changes = []
    for c, case in enumerate(layer["cases"]):
        kept, carried = {}, {}
        for i, step in enumerate(case["steps"]):
            prefix = f"{key}/{c}/{i}/"
            name = step["function"]
            function = getattr(module, name, None)
            call = Call(step, lambda n, p=prefix: data[p + "in/" + n], kept, carried, param, case["where"])
            outcome, taken = call.run(function, root) if callable(function) else (None, None)
            if outcome is not None:
                changes += [f"{name} changed its input {n} {case['where']}" for n in outcome.inputs_changed]
            if taken is not None:  # as the grader's checker notes them
                changes += [f"{name} changed {param}[{k!r}] {case['where']}" for k in taken.changed]
                changes += [taken.refusal] if taken.refusal and not step["writes"] else []
                carried.update(dict_args.carried_state(taken, tuple(step["writes"])))
            for check in step["checks"]:
                label = check["label"]
                accepted = [data[f"{prefix}want/{label}/{k}"] for k in range(check["accepted"])]
                got = None
                if outcome is None:
                    message = f"{name} is not defined in {entry}"
                elif not outcome.ok:
                    message = describe_failure(outcome, name, 0, case["where"])
                elif label not in step["writes"]:
                    got = outcome.results[label]
                elif taken.refusal:
                    message = taken.refusal
                elif label not in taken.entries:
                    message = (f"{param} has no {label!r} after {name} {case['where']}: the call must store it in "
                               f"{param}[{label!r}]")
                else:
                    got = taken.entries[label]
                if got is not None:
                    verdicts = [compare(label, got, want, layer["tolerance"], case["where"]) for want in accepted]
                    verdict = next((v for v in verdicts if v.passed), verdicts[0])
                    report.record(key, name, check["id"], verdict.passed, verdict.message)
                else:
                    report.record(key, name, check["id"], False, message)
    if layer["cases"]:
        message = ("no call changed its inputs" if not changes else
                   "; ".join(changes[:3]) + f". Work on copies (e.g. np.pad returns a new array); never write into "
                                            f"{layer['input_names']}")
        report.record(key, ", ".join(layer["functions"]), layer["inputs_id"], not changes, message)


def main(argv):
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
    data = np.load(KIT / "kit" / "cases.npz")
    report = Report(context)
    layers = ASSIGNMENT["layers"]
    print(f"Checking {path.name}: the notebook's cases of {len(layers)} layer(s)")
    for layer in layers:
        print(f"{layer['key']} ({', '.join(layer['functions'])}):")
        if layer["by_property"]:
            print("  not checked here: the grader checks this layer by its properties (its answers are random)")
            continue
        check_layer(module, layer, data, report, str(root), entry)
    passed, failed = sum(report.passed.values()), sum(report.failed.values())
    if not passed + failed:
        print("Nothing here to check: the grader checks these layers by their properties.")
        return 0
    for key, functions in report.failing_functions.items():
        print(f"Layer {key} fails {report.failed[key]} check(s): see {', '.join(functions)}")
    print(f"{passed} of {passed + failed} checks passed." + ("" if failed else " The grader also runs hidden cases."))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
