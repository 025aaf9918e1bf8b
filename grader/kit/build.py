"""`make student-kit`: write build/student-kit.zip for one assignment pack.

The kit's messages and hints are the grader's own code, packaged, never retyped: the
checks' wording (grader/harness/checks.py), how a failed call is described
(grader/harness/call_messages.py, untrusted_worker.py), and the hints for mechanical errors (grader/intake/hints.py,
grader/intake/repair.py). Definitions are cut out of those modules by name with the ast module,
so a change of wording in the grader reaches the next kit by itself. What is the
assignment's own (the runner, its shipped modules, the public cases) comes from the kit
folder the pack names (``KIT``); only numbers (the cases and their expected outputs) come
from the reference, computed here.

    python -m grader.kit.build [--out build/student-kit.zip] [--assignment NAME]
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from grader.harness import assignments

GRADER = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path("build/student-kit.zip")
TOP = "student-kit"

# (grader module, top-level names) cut into the kit's grader_messages.py, in this order.
MESSAGE_PARTS = [
    ("harness/outcomes.py", ["Returned", "CallOutcome"]),
    ("harness/checks.py", ["FLOAT32_LIKE_ERROR", "FIRST_INDICES", "CHUNK", "_chunks", "all_finite", "rel_error",
                            "Verdict", "_indices", "compare"]),
    ("harness/untrusted_worker.py", ["MAX_TEXT", "MAX_TRACEBACK_FRAMES", "_clip", "_type_name", "describe_exception"]),
    ("harness/call_messages.py", ["describe_failure", "tail"]),
    ("grading/feedback.py", ["_with_hint"]),
]
# And the pack's Case (for Case.where, how every message names its case), after these.
MESSAGE_HEADER = '''"""Generated from the grader's own modules by grader/kit/build.py: do not edit.
The checks' wording and failure descriptions are exactly the grader's."""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .hints import SourceContext, hint_for
'''
# Shipped as they are (kit/<name>), with their imports of each other made relative; the
# pack's kit adds its own MODULES.
SHIPPED = {"hints.py": GRADER / "intake" / "hints.py", "repair.py": GRADER / "intake" / "repair.py",
           "python2_signs.py": GRADER / "intake" / "python2_signs.py",
           "quiet_compiler.py": GRADER / "intake" / "quiet_compiler.py"}
RELATIVE_IMPORTS = {"from grader.intake.repair import": "from .repair import",
                    "from grader.intake.python2_signs import": "from .python2_signs import",
                    "from grader.intake.quiet_compiler import": "from .quiet_compiler import"}


def extract(path: Path, names: list[str]) -> str:
    """The source of the named top-level definitions and assignments of ``path``."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            node_names = [node.name]
        elif isinstance(node, ast.Assign):
            node_names = [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            node_names = [node.target.id]
        else:
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        for name in node_names:
            found[name] = "\n".join(text.splitlines()[first - 1:node.end_lineno])
    missing = [name for name in names if name not in found]
    if missing:
        raise LookupError(f"{path.name} no longer defines {', '.join(missing)}: update grader/kit/build.py")
    return "\n\n\n".join(found[name] for name in names)


def grader_messages(pack) -> str:
    parts = [extract(GRADER / module, names) for module, names in MESSAGE_PARTS]
    parts.append(extract(Path(pack.__file__), ["Case"]))
    return MESSAGE_HEADER + "\n\n" + "\n\n\n".join(parts) + "\n"


def shipped(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    for absolute, relative in RELATIVE_IMPORTS.items():
        text = text.replace(absolute, relative)
    return text


def assignment_description(pack) -> dict:
    """What the kit needs to know of the assignment, from its one declaration."""
    return {
        "functions": pack.STUDENT_FUNCTIONS,
        "results": {call.name: list(call.sent) for call in pack.CALLS},  # what each call's checks read
        "tolerance": pack.DEFAULT_RUBRIC["tolerance"],
        "speed_size": pack.SPEED_SIZES["speed-cell"],
        "speed_name": pack.speed_case_name("speed-cell"),
    }


def kit_files(pack=None) -> dict[str, bytes]:
    pack = pack or assignments.default()
    kit = assignments.kit(pack)
    sources = Path(kit.__file__).parent
    cases = kit.public_cases()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **kit.case_arrays(cases))
    description = assignment_description(pack) | {"cases": [case.id for case in cases]}
    files = {
        "check.py": (sources / kit.RUNNER).read_text(encoding="utf-8"),
        "README.txt": (sources / kit.README).read_text(encoding="utf-8"),
        "kit/__init__.py": '"""The self-check kit\'s modules (see README.txt)."""\n',
        "kit/grader_messages.py": grader_messages(pack),
        "kit/assignment.json": json.dumps(description, indent=2) + "\n",
    }
    modules = SHIPPED | {name: sources / name for name in kit.MODULES}
    files.update({f"kit/{name}": shipped(path) for name, path in modules.items()})
    encoded = {name: text.encode("utf-8") for name, text in files.items()}
    encoded["kit/cases.npz"] = buffer.getvalue()
    return encoded


def build(out: Path = DEFAULT_OUT, assignment: str = assignments.DEFAULT) -> Path:
    files = kit_files(assignments.get(assignment))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            # A fixed date: the same sources give the same zip.
            info = zipfile.ZipInfo(f"{TOP}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--assignment", choices=sorted(assignments.PACKS), default=assignments.DEFAULT)
    options = parser.parse_args()
    try:
        print(build(options.out, options.assignment))
    except assignments.UnknownAssignment as exc:
        parser.exit(2, f"{exc}\n")


if __name__ == "__main__":
    main()
