"""The committed JSON Schemas are exactly what the pydantic models generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.publish import schemas
from grader.publish.finals import Finals
from grader.publish.leaderboard import Leaderboard
from grader.grading.result import GradeResult

COMMITTED = Path(__file__).resolve().parents[3] / "schemas"


@pytest.mark.parametrize(
    ("filename", "model"),
    [
        pytest.param("result.schema.json", GradeResult, id="result"),
        pytest.param("leaderboard.schema.json", Leaderboard, id="leaderboard"),
        pytest.param("finals.schema.json", Finals, id="finals"),
    ],
)
def test_committed_schema_is_up_to_date(filename, model):
    path = COMMITTED / filename
    assert path.is_file(), f"{path} is missing: run `python -m grader.publish.schemas`"
    assert path.read_text(encoding="utf-8") == schemas.schema_text(model), (
        f"{path} is stale (the model changed): run `python -m grader.publish.schemas` and commit the result"
    )


def test_schema_text_is_sorted_indented_json_with_a_final_newline():
    text = schemas.schema_text(Leaderboard)
    assert text == json.dumps(Leaderboard.model_json_schema(), indent=2, sort_keys=True) + "\n"


def test_write_then_check_round_trip(tmp_path, capsys):
    assert schemas.main(["--check", "--directory", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"stale: {tmp_path / 'result.schema.json'} (run: python -m grader.publish.schemas)",
        f"stale: {tmp_path / 'leaderboard.schema.json'} (run: python -m grader.publish.schemas)",
        f"stale: {tmp_path / 'finals.schema.json'} (run: python -m grader.publish.schemas)",
    ]

    assert schemas.main(["--directory", str(tmp_path)]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["finals.schema.json", "leaderboard.schema.json",
                                                                 "result.schema.json"]
    assert schemas.main(["--check", "--directory", str(tmp_path)]) == 0

    (tmp_path / "leaderboard.schema.json").write_text("{}\n", encoding="utf-8")
    assert schemas.stale_schemas(tmp_path) == [tmp_path / "leaderboard.schema.json"]
