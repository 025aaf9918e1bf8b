"""Assignment packs in a child Python: reference modules are named only by packs and imported
before the folder is hidden (the packs' units: tests/unit/harness/test_packs.py)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from grader.harness import assignments
from tests.unit.harness.test_packs import PACKS_DIR, ROOT


def _reference_imports(path: Path) -> list[str]:
    """The reference modules a file imports by name (``from reference import strided``,
    ``import reference.maxpool``); ``import reference``, the whole package, is not one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "reference":
            found += [f"{node.module}.{alias.name}" if node.module == "reference" else node.module for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("reference.")]
    return found


def test_reference_modules_are_named_only_by_packs_and_imported_before_the_folder_is_hidden():
    """reference/ holds every pack's trusted code. Outside the packs' folder the grader uses
    the package only whole (to copy it for the reference worker, and to hide it); a module
    of it is named only by a pack. The harness imports the package and then hides its
    folder from the student, so each module a pack names must be imported by the package
    itself: one imported later would not be found inside the sandbox."""
    outside = [f"{path.relative_to(ROOT)} imports {name}" for path in sorted((ROOT / "grader").rglob("*.py"))
               if PACKS_DIR not in path.parents for name in _reference_imports(path)]
    assert outside == []
    named = {name for path in PACKS_DIR.rglob("*.py") for name in _reference_imports(path)}
    named |= {"reference." + Path(assignments.get(pack).REFERENCE_ENTRY).stem for pack in assignments.PACKS}
    assert {"reference.strided", "reference.maxpool"} <= named
    done = subprocess.run([sys.executable, "-c", "import json, sys, reference; "
                           "print(json.dumps(sorted(m for m in sys.modules if m.startswith('reference.'))))"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    imported_with_the_package = set(json.loads(done.stdout))
    assert named <= imported_with_the_package, f"import {sorted(named - imported_with_the_package)} in reference/__init__.py"
