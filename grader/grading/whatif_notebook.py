"""Where a notebook's repaired lines are, and its what-if copy.

A notebook is graded as the module ``grader.intake.notebook`` generates from its code cells,
each kept statement marked with its cell and line. A repair of that module is told to
the student by cell and line ("notebook cell 7, line 3"), never by the generated
module's lines, which the student has never seen. When the cell that defines a layer
does not parse (Python 2, a merge conflict), the notebook never became a module: the
copy is then the notebook itself with that one cell repaired, converted as any notebook.

    generated_cells(module_source)          -> NotebookCells of a generated module
    notebook_cell_of(where, path)           -> NotebookCells of the cell that did not parse
    notebook_copy(path, cells, text, dest)  -> a copy of the notebook with that cell replaced
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SubmissionError
from grader.intake.limits import LoadLimits
from grader.intake.notebook import blank_ipython_lines, generated_locations
from grader.intake.repair import Repair as RepairMade, Repaired
from grader.intake.staging import open_source, read_capped

_CELL = re.compile(r"^notebook cell (\d+)$")


@dataclass(frozen=True)
class NotebookCells:
    """How to name a line of the repaired text in the notebook."""

    cell_source: int | None = None
    """The number of the cell whose own text is repaired (it did not parse); None for a generated module."""
    locations: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Generated module line -> (cell, line in the cell)."""

    def locate(self, file: str, line: int, end_line: int | None) -> tuple[str, int, int | None]:
        """(file, line, end_line) as the student finds them in the notebook."""
        if self.cell_source is not None:
            return f"notebook cell {self.cell_source}", line, end_line
        where = self.locations.get(line)
        if where is None:
            return file, line, end_line  # not one of the student's lines (never for a repair)
        last = self.locations.get(end_line) if end_line else None
        same_cell = last is not None and last[0] == where[0]
        return f"notebook cell {where[0]}", where[1], last[1] if same_cell else None

    def where(self, line: int | None) -> str:
        """'notebook cell 3, line 5' for a line of the repaired text (an error's line)."""
        if line is None:
            return f"notebook cell {self.cell_source}" if self.cell_source is not None else "notebook"
        file, number, _ = self.locate("notebook", line, None)
        return f"{file}, line {number}"


def generated_cells(module_source: str) -> NotebookCells:
    return NotebookCells(locations=generated_locations(module_source))


def notebook_cell_of(where: str, path: Path) -> NotebookCells | None:
    """The cell named by a syntax error's ``where`` ('notebook cell 3'), when the submission
    is the notebook itself (a notebook inside a folder or a zip gets no what-if copy)."""
    match = _CELL.match(where)
    if match is None or Path(path).suffix.lower() != ".ipynb" or not Path(path).is_file():
        return None
    return NotebookCells(cell_source=int(match.group(1)))


def notebook_copy(path: Path, cells: NotebookCells, text: str, folder: Path,
                  repair: Callable[[list[str]], list[Repaired]], limits: LoadLimits = LoadLimits(),
                  ) -> tuple[Path, list[tuple[str, RepairMade]]]:
    """Write the notebook into ``folder``, under the submission's own file name (so that the
    copy is the same submission), with cell ``cells.cell_source`` holding ``text`` and every
    other code cell put through ``repair`` (all of them in one call; the rules the failing cell got: a Python 2
    notebook is Python 2 in its other cells too). Returns the copy and the other cells' repairs."""
    origin = f"notebook {Path(path).name}"
    with open_source(Path(path)) as stream:
        raw = read_capped(stream, limits.max_notebook_bytes, origin=origin)
    try:
        notebook = json.loads(raw.removeprefix(b"\xef\xbb\xbf"))
        notebook["cells"][cells.cell_source - 1]["source"] = text
        code = [(number, cell) for number, cell in enumerate(notebook["cells"], start=1)
                if cell.get("cell_type") == "code" and number != cells.cell_source]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError) as exc:
        # The loader read this notebook before, so this is not expected: say so, as a load failure.
        raise SubmissionError(f"the notebook could not be copied with its repaired cell ({type(exc).__name__})") \
            from exc
    repairs: list[tuple[str, RepairMade]] = []
    sources = []
    for number, cell in code:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if isinstance(source, str):  # else the conversion refuses it, and says so
            sources.append((number, cell, blank_ipython_lines(source)[0]))
    for (number, cell, _), repaired in zip(sources, repair([text for _, _, text in sources])):
        if repaired.repairs and repaired.error is None:
            cell["source"] = repaired.text
            repairs += [(f"notebook cell {number}", r) for r in repaired.repairs]
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / Path(path).name
    copy.write_text(json.dumps(notebook), encoding="utf-8")
    return copy, repairs
