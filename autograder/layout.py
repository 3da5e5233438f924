"""Where a student's exercise files are, whatever shape the hand-in took.

    course copy     SUBMISSION/ssd_course/exercises/<module>.py (what `grade` reads)
    loose files     SUBMISSION/<module>.py (a Gradescope upload of the six files)
    nested          either of the two one or more folders down (a zip of the folder)
    .zip            any of the above inside a zip, as LMS downloads give them

``prepare(entry, dest)`` finds the files and writes a fresh course copy at `dest`
holding their bytes only, so that `api.grade` always reads one layout and nothing
else from the hand-in reaches the grader. Nothing is ever extracted from a zip but
those (at most six) files, each read up to ``MAX_SOURCE_BYTES``: a zip bomb,
an absolute path or a ``..`` in a member name, or a symbolic link cannot write
anywhere. Every refusal is one line (``SubmissionError``, or a note for a file).
"""
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import shutil

from ssd_course import impl, registry

MAX_SOURCE_BYTES = 1 << 20   # an exercise file larger than this is refused unread (a zip bomb, a huge file)

MODULES = tuple(e.module for e in registry.EXERCISES)
MAX_DEPTH = 6                 # folders below the entry searched for the files
MAX_ENTRIES = 100_000         # names looked at in a folder tree or a zip: a hand-in, not a disk
MAX_ZIP_BYTES = 512 << 20     # a zip larger than this is not a submission of six small files
IGNORED = ("__MACOSX", "__pycache__")   # what macOS's and Python's own tools leave behind


class SubmissionError(ValueError):
    """The hand-in cannot be read as a submission; the message is one line for its row."""


@dataclass
class Found:
    """The course copy `prepare` wrote: where, which layout, and one note per refused file."""
    root: Path
    layout: str
    files: dict = field(default_factory=dict)   # module -> bytes as graded
    notes: list = field(default_factory=list)


def _skipped(part: str) -> bool:
    return part.startswith(".") or part in IGNORED


def choose(paths) -> tuple:
    """Pick the folder holding the exercise files among relative POSIX `paths` (files only).

    Returns:
        (layout, {module: path}, notes): the layout in words ("course copy", "loose files",
        "course copy in hw/", "empty"); the chosen files; a note naming the other places
        that held exercise files (not graded). The folder with the most of the six wins,
        then the shallowest, then a course copy over loose files, then the first by name.
    """
    places = {}        # (root, kind) -> {module: path}
    for text in paths:
        path = PurePosixPath(text)
        if path.suffix != ".py" or path.stem not in MODULES or any(map(_skipped, path.parts)):
            continue
        folder = path.parent
        if folder.parts[-2:] == ("ssd_course", "exercises"):
            key = (folder.parent.parent, "course copy")
        else:
            key = (folder, "loose files")
        places.setdefault(key, {})[path.stem] = text
    if not places:
        return "empty", {}, []
    ranked = sorted(places, key=lambda k: (-len(places[k]), len(k[0].parts), k[1] != "course copy",
                                           str(k[0])))
    root, kind = ranked[0]
    layout = kind if root == PurePosixPath(".") else f"{kind} in {root}/"
    others = [str(r / "ssd_course/exercises" if k == "course copy" else r) for r, k in ranked[1:]]
    notes = [f"exercise files also found in {', '.join(others)}: not graded"] if others else []
    return layout, places[(root, kind)], notes


def _folder_files(top: Path) -> list:
    """Relative paths of the files (and links) under `top`, at most MAX_DEPTH folders down;
    links to folders are not followed."""
    out, seen = [], 0
    for folder, dirs, files in os.walk(top, followlinks=False):
        rel = Path(folder).relative_to(top)
        depth = len(rel.parts)
        dirs[:] = sorted(d for d in dirs if not _skipped(d)) if depth < MAX_DEPTH else []
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            raise SubmissionError(f"more than {MAX_ENTRIES} files and folders: not a submission")
        out += [(rel / f).as_posix() for f in files]
        out += [(rel / d).as_posix() for d in dirs if (Path(folder) / d).is_symlink()]
    return out


def _course_copy_files(top: Path) -> list:
    """The exercise files of `top` when it is a course copy itself (no walk: a student's
    copy may hold a dataset of thousands of files), else []."""
    folder = top / "ssd_course" / "exercises"
    if any(p.is_symlink() for p in (top / "ssd_course", folder)) or not folder.is_dir():
        return []
    return [f"ssd_course/exercises/{p.name}" for p in sorted(folder.iterdir()) if p.stem in MODULES]


def read_regular(path: Path):
    """(bytes, None) for a regular file with one name, else (None, why): the checks of
    ``api.locate``, made again here because the bytes are copied before grading."""
    name = path.name
    try:
        st = os.lstat(path)
    except OSError as exc:
        return None, f"{name} cannot be read ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return None, f"{name} is a symbolic link: submit the file itself"
    if not stat.S_ISREG(st.st_mode):
        return None, f"{name} is not a regular file"
    try:   # O_NONBLOCK: a FIFO swapped in after the check must not hang the grader
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return None, f"{name} cannot be read ({exc.strerror})"
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None, f"{name} is not a regular file"
        if st.st_nlink > 1:
            return None, f"{name} is a hard link: submit the file itself"
        return f.read(MAX_SOURCE_BYTES + 1), None


def _zip_members(path: Path) -> dict:
    """{safe relative name: ZipInfo} of the zip's files; SubmissionError for a zip that
    is not one, too large, or that names a path outside itself."""
    if path.stat().st_size > MAX_ZIP_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_ZIP_BYTES >> 20} MB")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path.name} is not a readable zip ({exc})") from None
    with archive:
        infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise SubmissionError(f"{path.name} holds more than {MAX_ENTRIES} entries: not a submission")
    members = {}
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or (parts and ":" in parts[0]) or ".." in parts:
            raise SubmissionError(f"{path.name} names a path outside the zip ({info.filename!r}): "
                                  "refused as a whole")
        if not info.is_dir():
            members[name] = info
    return members


def _zip_read(path: Path, info: zipfile.ZipInfo):
    """(bytes, None) of one member, at most MAX_SOURCE_BYTES + 1 of them, or (None, why)."""
    name = PurePosixPath(info.filename.replace("\\", "/")).name
    if stat.S_ISLNK(info.external_attr >> 16):
        return None, f"{name} is a symbolic link in the zip: submit the file itself"
    if info.flag_bits & 0x1:
        return None, f"{name} is encrypted in the zip"
    try:
        with zipfile.ZipFile(path) as archive, archive.open(info) as f:
            return f.read(MAX_SOURCE_BYTES + 1), None    # bounded: never the declared size
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
        return None, f"{name} cannot be read from the zip ({exc})"


def prepare(entry: Path, dest: Path) -> Found:
    """Write the course copy of `entry` (a folder or a ``.zip``) at `dest` (a new folder).

    Returns:
        Found: `dest`, the layout, the bytes of each file copied and a note per file
        refused (a link, not a regular file) or per other place holding exercise files.

    Raises:
        SubmissionError: `entry` is a link, neither a folder nor a zip, an unreadable or
        hostile zip, or a tree too large to be a submission.
    """
    entry = Path(entry)
    if entry.is_symlink():
        raise SubmissionError(f"{entry.name} is a symbolic link: not graded")
    if entry.is_dir():
        paths = _course_copy_files(entry)
        paths = paths if paths else _folder_files(entry)
        layout, chosen, notes = choose(paths)
        read = {m: read_regular(entry / p) for m, p in chosen.items()}
    elif entry.is_file() and entry.suffix.lower() == ".zip":
        members = _zip_members(entry)
        layout, chosen, notes = choose(members)
        layout = f"zip: {layout}"
        read = {m: _zip_read(entry, members[p]) for m, p in chosen.items()}
    else:
        raise SubmissionError(f"{entry.name} is neither a folder nor a .zip")
    exercises = Path(dest) / "ssd_course" / "exercises"
    exercises.mkdir(parents=True)
    found = Found(Path(dest), layout, notes=notes)
    for module, (data, why) in sorted(read.items()):
        if why:
            found.notes.append(f"{why}: not graded")
            continue
        (exercises / f"{module}.py").write_bytes(data)
        found.files[module] = data
    return found


def solutions_submission(root: Path) -> Path:
    """A course copy at `root` whose six exercise files are the reference solutions (instructor only)."""
    exercises = root / "ssd_course" / "exercises"
    exercises.mkdir(parents=True, exist_ok=True)
    for ex in registry.EXERCISES:
        shutil.copyfile(impl.solutions_dir() / f"{ex.module}.py", exercises / f"{ex.module}.py")
    return root
