"""Build the lesson notebooks from their Markdown sources: lessons/_src/NN_name.md -> lessons/NN_name.ipynb.

Write once, generate the rest: the notebooks are what ships (students open
them in Jupyter), the sources are what instructors edit and review. A test
fails when a notebook differs from what its source builds.

Source format, plain Markdown:
- each fenced block opened with three backticks and ``python`` becomes a code
  cell; all other text becomes Markdown cells (a new cell at every heading);
- words after ``python`` on the opening line set cell metadata:
  ``check=jaccard`` marks the exercise's check cell (tags ``["check"]`` and
  ``{"ssd_course": {"exercise": "jaccard"}}``, which the nbgrader course looks
  for); ``tags=a,b`` adds tags.

Notebooks are written without outputs or execution counts, with the plain
``python3`` kernel spec and cell ids derived from the cell's text, so a diff
shows only what changed.

    python lessons/_build.py            # rebuild every notebook
    python lessons/_build.py --check    # exit 1 if a notebook is out of date
"""
import hashlib
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "_src"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
FENCE = re.compile(r"^```python(?P<opts>(\s+\S+)*)\s*$")
HEADING = re.compile(r"^#{1,6} ")


def _options(text: str) -> dict:
    """Cell metadata from the words after ```python (check=NAME, tags=a,b)."""
    meta, tags = {}, []
    for word in text.split():
        key, _, value = word.partition("=")
        if key == "check":
            tags.append("check")
            meta["ssd_course"] = {"exercise": value}
        elif key == "tags":
            tags += [t for t in value.split(",") if t]
        else:
            raise ValueError(f"unknown cell option {word!r} (use check=NAME or tags=a,b)")
    if tags:
        meta["tags"] = tags
    return meta


def _markdown_cells(lines):
    """Split prose at headings; drop blank cells."""
    chunks, current = [], []
    for line in lines:
        if HEADING.match(line) and any(l.strip() for l in current):
            chunks.append(current)
            current = []
        current.append(line)
    chunks.append(current)
    return ["\n".join(c).strip("\n") for c in chunks if any(l.strip() for l in c)]


def parse(text: str, name: str = "<source>"):
    """[(cell_type, source, metadata), ...] of a lesson source."""
    cells, prose, code, meta = [], [], None, None
    for number, line in enumerate(text.splitlines(), start=1):
        if code is None:
            fence = FENCE.match(line)
            if fence:
                cells += [("markdown", md, {}) for md in _markdown_cells(prose)]
                prose, code, meta = [], [], _options(fence["opts"] or "")
            else:
                prose.append(line)
        elif line.rstrip() == "```":
            cells.append(("code", "\n".join(code).strip("\n"), meta))
            code = None
        else:
            code.append(line)
    if code is not None:
        raise ValueError(f"{name}: a ```python block is not closed")
    cells += [("markdown", md, {}) for md in _markdown_cells(prose)]
    return cells


def build(source: Path):
    """The notebook (a NotebookNode) for one lesson source file."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    seen = {}
    for kind, text, meta in parse(source.read_text(encoding="utf-8"), source.name):
        digest = hashlib.sha1(f"{kind}\n{text}".encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell_id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(source=text, metadata=meta, id=cell_id)
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def notebook_text(source: Path) -> str:
    return nbformat.writes(build(source)) + "\n"


def targets():
    """{source .md: notebook .ipynb} for every lesson."""
    return {src: HERE / f"{src.stem}.ipynb" for src in sorted(SOURCES.glob("[0-9][0-9]_*.md"))}


def stale():
    """Notebooks missing or differing from their source (and notebooks without a source)."""
    out = [nb for src, nb in targets().items()
           if not nb.is_file() or nb.read_text(encoding="utf-8") != notebook_text(src)]
    sources = {nb.name for nb in targets().values()}
    out += [nb for nb in sorted(HERE.glob("[0-9][0-9]_*.ipynb")) if nb.name not in sources]
    return out


def main(argv) -> int:
    if "--check" in argv:
        bad = stale()
        for nb in bad:
            print(f"out of date: lessons/{nb.name} (run `python lessons/_build.py`)")
        print("lessons: up to date" if not bad else f"lessons: {len(bad)} out of date")
        return 1 if bad else 0
    for src, nb in targets().items():
        nb.write_text(notebook_text(src), encoding="utf-8")
        print(f"wrote lessons/{nb.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
