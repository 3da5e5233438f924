"""Which students handed in the same code: ``similarity.csv`` of ``grade-all``.

Each exercise file is normalised with Python's own ``ast``: comments, docstrings,
blank lines and layout go; every identifier a student chose (variables,
arguments, functions) becomes ``v0, v1, ...`` in order of first use, so renaming
or reformatting a copy changes nothing. Attribute and keyword names stay
(``torch.clamp(x, min=0)``): they are the library's, not the student's.

Two files are then compared as MOSS does: by the sets of their token k-grams,
with the stub's k-grams removed first (base code: the signature and helpers
every student starts from match nobody). A pair is listed when the Jaccard index
of the two sets is at least ``NEAR``. Files that are the untouched stub, or the
reference solution itself after normalising, take part in no pair: copying the
handout is not copying a classmate.

    exercise, student_a, student_b, similarity, kind
    jaccard,  alice,     bob,       1.000,      identical | same after normalising | near
"""
import ast
import csv
import hashlib
import io
import itertools
import os
import tokenize
from pathlib import Path

from autograder.sheet import cell
from ssd_course import registry

K = 8                 # tokens per k-gram: about one short statement
NEAR = 0.8            # Jaccard index of the k-gram sets from which a pair is listed
MIN_GRAMS = 12        # a file with fewer k-grams of its own (beyond the stub's) is not compared
# Layout tokens: a statement's end and a block's edges count (they are structure), the rest not.
SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER)
MARKS = {tokenize.NEWLINE: ";", tokenize.INDENT: "{", tokenize.DEDENT: "}"}
COLUMNS = ("exercise", "student_a", "student_b", "similarity", "kind")


class _Renamer(ast.NodeTransformer):
    """Every name bound or used in the file -> v<n>, in order of first appearance."""

    def __init__(self):
        self.names = {}

    def _new(self, name):
        if name is None:
            return None
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node):
        node.arg, node.annotation = self._new(node.arg), None
        return node

    def visit_alias(self, node):
        node.asname = self._new(node.asname)
        return node

    def _body(self, node):
        body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                             and isinstance(s.value.value, str))]
        node.body = body or [ast.Pass()]    # docstrings (and bare strings) are comments

    def visit_FunctionDef(self, node):
        node.name, node.returns = self._new(node.name), None
        self._body(node)
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = self._new(node.name)
        self._body(node)
        return self.generic_visit(node)

    def visit_AnnAssign(self, node):
        node.annotation = ast.Constant(None)    # annotations are documentation here
        return self.generic_visit(node)


def tokens(source: bytes) -> list:
    """The file as a list of tokens, normalised (see the module's docstring).

    A file that does not parse is compared on its raw tokens without comments.
    """
    try:
        tree = ast.parse(source)
        _Renamer()._body(tree)
        text = ast.unparse(_Renamer().visit(tree))
    except (SyntaxError, ValueError, RecursionError):
        text = source.decode("utf-8", "replace")
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type not in SKIPPED:
                out.append(MARKS.get(tok.type, tok.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = text.split()
    return [t for t in out if t]


def grams(toks: list) -> set:
    """Hashes of every run of K tokens (a file shorter than K: one gram of all of it)."""
    runs = [toks[i:i + K] for i in range(max(1, len(toks) - K + 1))]
    return {hashlib.blake2b("\x00".join(r).encode(), digest_size=8).digest() for r in runs}


def course_bases() -> dict:
    """{module: (stub bytes or None, solution bytes or None)} of this copy of the course."""
    from ssd_course import impl
    solutions, root = impl.solutions_dir(), impl.repo_root()
    stubs = {}
    if solutions is not None:
        from ssd_course.tools.stubs import expected_stubs
        stubs = {Path(rel).stem: text.encode() for rel, text in expected_stubs().items()}
    out = {}
    for ex in registry.EXERCISES:
        stub = stubs.get(ex.module)
        if stub is None and (root / ex.path).is_file():
            stub = (root / ex.path).read_bytes()
        solution = (solutions / f"{ex.module}.py").read_bytes() if solutions else None
        out[ex.module] = (stub, solution)
    return out


def pairs(files: dict, bases: dict) -> list:
    """Pairs of students with similar files, per exercise, most similar first.

    Args:
        files: {student: {module: bytes}} (the files as graded).
        bases: {module: (stub bytes | None, solution bytes | None)} (``course_bases()``).

    Returns:
        [(module, student_a, student_b, similarity float in [0, 1], kind)], student_a <
        student_b, sorted by exercise (registry order), similarity (high first), names.
    """
    out = []
    for ex in registry.EXERCISES:
        stub, solution = bases.get(ex.module, (None, None))
        out += _pairs_of(ex.module, {s: f[ex.module] for s, f in files.items() if ex.module in f},
                         stub, solution)
    return out


def _pairs_of(module: str, sources: dict, stub, solution) -> list:
    handout = {tuple(tokens(b)) for b in (stub, solution) if b is not None}
    base = grams(tokens(stub)) if stub is not None else set()
    norm, sets = {}, {}
    for student, source in sources.items():
        toks = tuple(tokens(source))
        if toks in handout:
            continue              # the stub as given, or the reference solution itself
        own = grams(list(toks)) - base
        if len(own) >= MIN_GRAMS:
            norm[student], sets[student] = toks, own
    found = []
    for a, b in itertools.combinations(sorted(sets), 2):
        union = len(sets[a] | sets[b])
        score = len(sets[a] & sets[b]) / union if union else 0.0
        if sources[a] == sources[b]:
            found.append((module, a, b, 1.0, "identical"))
        elif norm[a] == norm[b]:
            found.append((module, a, b, 1.0, "same after normalising"))
        elif score >= NEAR:
            found.append((module, a, b, score, "near"))
    return sorted(found, key=lambda p: (-p[3], p[1], p[2]))


def write(path: Path, found: list) -> Path:
    """``similarity.csv`` (COLUMNS), written then renamed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for module, a, b, score, kind in found:
            writer.writerow([module, cell(a), cell(b), f"{score:.3f}", kind])
    os.replace(tmp, path)
    return path
