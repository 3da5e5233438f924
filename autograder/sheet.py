"""The class's grade sheet: `grades.csv`, its columns, and cells a spreadsheet cannot run."""
import csv
import os
from pathlib import Path

from ssd_course import registry

MODULES = tuple(e.module for e in registry.EXERCISES)
COLUMNS = ("student", "layout", *MODULES, "total", "max", *(f"{m}_sha256" for m in MODULES),
           "seconds", "isolation", "error", "notes")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")   # what a spreadsheet would run as a formula


def cell(value):
    """A CSV cell as a spreadsheet shows it: text that would start a formula (a student id
    or a file name chosen by a student, ``=HYPERLINK(...)``) gets a leading ``'``."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def write_sheet(path: Path, rows: list) -> Path:
    """``grades.csv``: `rows` sorted by student, COLUMNS only; written then renamed."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in sorted(rows, key=lambda r: r["student"]):
            writer.writerow({k: cell(row.get(k, "")) for k in COLUMNS})
    os.replace(tmp, path)
    return path
