"""Build a submission folder from a corpus entry, for the autograder's tests.

A submission is a course copy: ``ROOT/ssd_course/exercises/<module>.py``. It
starts as the reference solutions, then the entry's files go over them:
``<module>.py`` into the exercises folder, ``ssd_course/...`` as they are,
``root/...`` at the top. ``{{NAME}}`` placeholders are filled from `fill`.
"""
from pathlib import Path

from autograder.layout import solutions_submission
from ssd_course import registry

CORPUS = Path(__file__).resolve().parent


def make_submission(name: str, root: Path, fill=None) -> Path:
    root = Path(root)
    solutions_submission(root)
    modules = {e.module for e in registry.EXERCISES}
    source = CORPUS / name
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source)
        if rel.parts[0] == "root":
            dest = root.joinpath(*rel.parts[1:])
        elif rel.parts[0] == "ssd_course":
            dest = root / rel
        elif len(rel.parts) == 1 and path.stem in modules:
            dest = root / "ssd_course" / "exercises" / path.name
        else:
            continue
        text = path.read_text()
        for key, value in (fill or {}).items():
            text = text.replace("{{" + key + "}}", str(value))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    return root


def stubs_submission(root: Path) -> Path:
    """A course copy holding the untouched stubs (what a student starts from)."""
    from ssd_course.tools.stubs import expected_stubs

    for rel, text in expected_stubs().items():
        (Path(root) / rel).parent.mkdir(parents=True, exist_ok=True)
        (Path(root) / rel).write_text(text)
    return Path(root)
