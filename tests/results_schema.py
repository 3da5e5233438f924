"""Gradescope's results.json, checked against the JSON Schema written from its specification
(tests/schemas/gradescope_results.schema.json)."""
import json
from pathlib import Path

import jsonschema

SCHEMA = json.loads((Path(__file__).resolve().parent / "schemas" / "gradescope_results.schema.json")
                    .read_text())


def validate_results(data: dict, written=True) -> dict:
    """Raise ``jsonschema.ValidationError`` unless `data` keeps to the schema; returns `data`.

    `written`: a results.json as a command writes it, which also carries ``execution_time``
    (``GradeResult.gradescope()`` leaves it out so that two gradings compare equal).
    """
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    if written:
        assert isinstance(data.get("execution_time"), int), "a written results.json has execution_time"
    return data


def validate_file(path) -> dict:
    """The parsed results.json at `path`, validated."""
    return validate_results(json.loads(Path(path).read_text()))
