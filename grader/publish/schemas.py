"""The published JSON Schemas, generated from the pydantic models so they cannot drift.

    python -m grader.publish.schemas            write schemas/*.schema.json
    python -m grader.publish.schemas --check    exit 1 (and name the files) when they are stale

A test runs the same check, so a model change without regenerated schemas fails CI.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel

from grader.publish.finals import Finals
from grader.publish.leaderboard import Leaderboard
from grader.grading.result import GradeResult

# The repository's schemas/ folder: the default whatever directory the command runs from.
DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "schemas"

PUBLISHED_MODELS: dict[str, type[BaseModel]] = {
    "result.schema.json": GradeResult,
    "leaderboard.schema.json": Leaderboard,
    "finals.schema.json": Finals,
}


def schema_text(model: type[BaseModel]) -> str:
    """The exact file content for a model's schema: sorted keys, so diffs show real changes."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path | str = DEFAULT_DIRECTORY) -> list[Path]:
    """Write every published schema into ``directory``; return the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, model in PUBLISHED_MODELS.items():
        path = directory / filename
        path.write_text(schema_text(model), encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path | str = DEFAULT_DIRECTORY) -> list[Path]:
    """The schema files in ``directory`` that are missing or differ from what the models generate."""
    directory = Path(directory)
    stale = []
    for filename, model in PUBLISHED_MODELS.items():
        path = directory / filename
        if not path.is_file() or path.read_text(encoding="utf-8") != schema_text(model):
            stale.append(path)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.publish.schemas", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if any schema file is stale")
    parser.add_argument(
        "--directory",
        type=Path,
        default=DEFAULT_DIRECTORY,
        help=f"where the schemas live (default: {DEFAULT_DIRECTORY})",
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_schemas(args.directory)
        for path in stale:
            print(f"stale: {path} (run: python -m grader.publish.schemas)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_schemas(args.directory):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
