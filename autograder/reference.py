"""Expected outputs of the cases, computed in the grader's own process.

    Live     the instructor's repository: runs ``solutions/`` (loaded by path, never
             the submission's copy) and, where a case names them, the grader-only
             variants of its exercise (``autograder/hidden/<module>.py``): torchvision,
             all valid answers, accepted gradients, and what each known mistake returns
    Frozen   a student copy: the same numbers for the public cases, written by
             ``ssd-course release`` into ``autograder/cases/public_expected.{json,npz}``

Both give, per call of a case, a dict ``{"output": value, "grads": [value] | None,
"mistakes": {name: value}, "inputs": [array | None]}`` where a value is the
description ``values.describe`` makes (read through ``messages.value``), with ``"array"`` holding the numbers, or
``{"kind": "one_of", "options": [...]}``, and ``inputs`` are the arguments'
values (to check the call left them unchanged).

In the instructor's repository ``available()`` wraps Live in a disk cache
(``Cached``): the first grading freezes every case's expectations into
``~/.cache/ssd-course/`` under a key made of the sources of the cases and
variants (``autograder/cases/``, ``autograder/hidden/``: where the mistakes' code
lives) and solutions, and the library versions; later gradings load them with
numpy alone, so the grader's own work stays small.
"""
import hashlib
import hmac
import io
import secrets
import importlib.metadata
import importlib.util
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from autograder import cases, messages, values
from ssd_course import registry

FROZEN = Path(__file__).resolve().parent / "cases" / "public_expected"


def describe_value(obj) -> dict:
    """A reference output (tensor, tuple, or a list of valid answers) as a value."""
    from autograder.hidden.variants import OneOf  # only the live reference makes these

    if isinstance(obj, OneOf):
        return {"kind": "one_of", "options": [describe_value(o) for o in obj]}
    arrays = []
    return messages.value(values.describe(obj, arrays), arrays)


class Live:
    """Expected values from solutions/ (and torchvision / grader-only variants)."""

    mode = "live"

    def __init__(self, solutions_dir: Path):
        if not cases.hidden_available():
            raise FileNotFoundError("autograder/hidden/ is missing: live expectations need the "
                                    "instructor's repository")
        self.solutions_dir = Path(solutions_dir)
        self._modules = {}

    def function(self, exercise: str, name: str):
        ex = registry.get(exercise)
        if name == "solutions":
            return getattr(self._solution(ex.module), ex.function)
        from autograder.hidden import variants
        return variants.get(ex.module, name)

    @staticmethod
    def mistake(exercise: str, name: str):
        """The code of mistake `name` of `exercise`, or None for one recognised otherwise
        (by its output's form, a gradient or an error message)."""
        from autograder.hidden import variants
        return variants.of(exercise).mistakes.get(name)

    def _solution(self, module: str):
        if module not in self._modules:
            path = self.solutions_dir / f"{module}.py"
            spec = importlib.util.spec_from_file_location(f"autograder._reference.{module}", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            self._modules[module] = mod
        return self._modules[module]

    def expect(self, case) -> list:
        import torch

        # Small tensors: one thread is faster, and far faster on a busy machine (no spinning).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._expect(case)
        finally:
            torch.set_num_threads(threads)

    def _expect(self, case) -> list:
        grad_refs = case.grad_options or (case.reference,)
        out = []
        for call in case.calls:
            output, grads = self._call(self.function(case.exercise, case.reference), call, case)
            expect = {"output": describe_value(_half_options(output, call)), "grads": None, "mistakes": {},
                      "inputs": [_values(a) for a in call.args]}
            if call.grad is not None:
                options = [self._call(self.function(case.exercise, r), call, case)[1] for r in grad_refs]
                expect["grads"] = [{"kind": "one_of", "options": [describe_value(o[i]) for o in options]}
                                   for i in range(len(call.grad["wrt"]))]
            for name in case.mistakes:
                code = self.mistake(case.exercise, name)
                if code is None:
                    continue  # recognised from the output's form, a gradient or an error instead
                try:
                    wrong = self._call(code, call, case)[0]
                except Exception:
                    continue  # the mistake cannot even run on these inputs
                expect["mistakes"][name] = describe_value(wrong)
            out.append(expect)
        return out

    @staticmethod
    def _call(fn, call, case):
        import torch

        args = [values.build_arg(a) for a in call.args]
        kwargs = {k: values.build_arg(v) for k, v in call.kwargs.items()}
        dtype = next((a.dtype for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()),
                     None)
        if case.float64_reference and dtype is not None:
            args = [a.detach().double().requires_grad_(a.requires_grad)
                    if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args]
        result = fn(*args, **kwargs)
        grads = None
        if call.grad is not None:
            # backward(upstream) would import sympy (0.6 s); sum(result * upstream) gives the same grads
            upstream = values.build_arg(call.grad["upstream"]) if call.grad.get("upstream") else None
            (result if upstream is None else (result * upstream.to(result.dtype)).sum()).backward()
            grads = [args[i].grad for i in call.grad["wrt"]]
        if case.float64_reference and dtype is not None:
            result = _cast_floats(result, dtype)
            grads = grads and [_cast_floats(g, dtype) for g in grads]
        return _detached(result), grads


def _half_options(output, call):
    """The answers accepted for a call with float16 / bfloat16 inputs: the reference's, and the
    same values in the other of (the input's dtype, float32). Computing in float32 is what
    torchvision does (the areas of pixel boxes overflow float16), and either dtype may come back."""
    import torch
    from autograder.hidden.variants import OneOf

    half = [s["dtype"] for s in cases.tensor_specs(call) if s["dtype"] in cases.HALF_DTYPES]
    if not half:
        return output
    options = [output]
    for dtype in (getattr(torch, half[0]), torch.float32):
        other = _cast_floats(output, dtype)
        if not any(_same_dtypes(other, o) for o in options):
            options.append(other)
    return OneOf(options) if len(options) > 1 else output


def _same_dtypes(a, b) -> bool:
    import torch

    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype
    return isinstance(a, (tuple, list)) and len(a) == len(b) and all(map(_same_dtypes, a, b))


def _cast_floats(obj, dtype):
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.to(dtype) if obj.is_floating_point() else obj
    if isinstance(obj, (tuple, list)):  # OneOf is a list
        return type(obj)(_cast_floats(o, dtype) for o in obj)
    return obj


def _detached(obj):
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.detach()
    if isinstance(obj, tuple):
        return tuple(_detached(o) for o in obj)
    if isinstance(obj, list):
        return type(obj)(_detached(o) for o in obj)
    return obj


class Frozen:
    """Expected values of the public cases, as the release wrote them."""

    mode = "frozen"

    def __init__(self, base: Path = FROZEN, contents=None):
        """`contents`: the (json, npz) bytes already read (and verified), else read from `base`."""
        index, npz = contents or (base.with_suffix(".json").read_bytes(),
                                  base.with_suffix(".npz").read_bytes())
        self.index = json.loads(index)
        with np.load(io.BytesIO(npz), allow_pickle=False) as data:
            self.arrays = {k: data[k] for k in data.files}

    def expect(self, case) -> list:
        if case.id not in self.index:
            raise KeyError(f"no stored expectation for case {case.id}: this copy's autograder/cases/ "
                           "and public_expected.json do not match (make the release again)")
        return [_thaw(c, self.arrays) for c in self.index[case.id]]


def _thaw(obj, arrays):
    if isinstance(obj, dict) and set(obj) == {"input"}:
        return arrays[obj["input"]]
    if isinstance(obj, dict):
        out = {k: _thaw(v, arrays) for k, v in obj.items()}
        if isinstance(out.get("array"), str):
            out["array"] = arrays[out["array"]]
        return out
    if isinstance(obj, list):
        return [_thaw(v, arrays) for v in obj]
    return obj


def _values(spec):
    """The values of a tensor argument as the call receives them (None for plain Python args)."""
    if "tensor" not in spec:
        return None
    import torch

    x = values.build_arg(dict(spec, grad=False))
    return (x.float() if x.dtype == torch.bfloat16 else x).numpy()


def freeze(cases, reference: Live, base: Path, allow_hidden=False, compress=True) -> int:
    """Write the expectations of `cases` to ``base.json`` + ``base.npz``; returns their count.

    Hidden cases are refused unless `allow_hidden` (the grader's own cache, never a release).
    """
    arrays, index = {}, {}

    def bake(obj):
        if isinstance(obj, dict):
            out = {k: bake(v) for k, v in obj.items() if k != "array"}
            if "array" in obj:
                out["array"] = keep(obj["array"])
            return out
        if isinstance(obj, list):
            return [bake(v) for v in obj]
        if isinstance(obj, np.ndarray):
            return {"input": keep(obj)}
        return obj

    def keep(array):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(array)
        return key

    for case in cases:
        if case.hidden and not allow_hidden:
            raise ValueError(f"refusing to freeze hidden case {case.id} into a student copy")
        index[case.id] = bake(reference.expect(case))
    base.parent.mkdir(parents=True, exist_ok=True)
    # write then rename: a grading running beside this one never reads half a file
    npz = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(npz, **arrays)
    _write_atomically(base.with_suffix(".npz"), npz.getvalue())
    _write_atomically(base.with_suffix(".json"), json.dumps(index).encode())
    return len(index)


def cache_dir() -> Path:
    """Where the grader caches expectations (``SSD_COURSE_CACHE`` or ``~/.cache/ssd-course``)."""
    root = os.environ.get("SSD_COURSE_CACHE") or Path(os.environ.get(
        "XDG_CACHE_HOME", Path.home() / ".cache")) / "ssd-course"
    return Path(root)


KEPT_VERSIONS = 4     # cache entries kept: this version of the cases and a few before it


def evict(directory: Path, keep: int = KEPT_VERSIONS) -> int:
    """Remove all but the `keep` newest entries of the cache (each 80-180 MB: one per version of
    the cases and solutions, so a maintainer editing cases would otherwise fill the disk), a
    half-written one (killed before its .mac) included; returns how many were removed."""
    stems = {}
    for path in Path(directory).glob("expected-*.*"):
        stems.setdefault(path.with_suffix(""), []).append(path.stat().st_mtime)
    newest_first = sorted(stems, key=lambda stem: max(stems[stem]), reverse=True)
    for stem in newest_first[keep:]:
        for suffix in (".mac", ".json", ".npz"):
            stem.with_suffix(suffix).unlink(missing_ok=True)
    return len(newest_first[keep:])


class Cached:
    """Live expectations, computed once per version of the cases and solutions, then loaded.

    The cache folder is the grader's own (mode 0700, hidden from the box), and every
    entry carries an HMAC under a key kept there: an entry that does not verify is
    computed again, so nothing written by anyone else is ever graded against.
    """

    mode = "live"

    def __init__(self, live: Live, directory: Path = None):
        self.live = live
        self.directory = Path(directory or cache_dir())
        self.base = self.directory / f"expected-{self.key(live.solutions_dir)}"
        self.hit = self.base.with_suffix(".mac").is_file()
        self.rejected = False     # an entry was there but did not verify
        self._frozen = None

    @staticmethod
    def sources(solutions_dir: Path) -> list:
        """Every file the expectations depend on: the cases, the variants (the mistakes' and
        alternatives' code, in autograder/hidden/), how values are made, and solutions/."""
        here = Path(__file__).resolve().parent
        return sorted([*(here / "cases").glob("*.py"), *(here / "hidden").glob("*.py"),
                       here / "reference.py", here / "values.py", here / "messages.py",
                       *Path(solutions_dir).glob("*.py")])

    @staticmethod
    def key(solutions_dir: Path) -> str:
        digest = hashlib.sha256()
        for f in Cached.sources(solutions_dir):
            # named with its folder: the same bytes moved from cases/ to hidden/ are a change
            digest.update(f"{f.parent.name}/{f.name}".encode() + b"\0" + f.read_bytes() + b"\0")
        for package in ("torch", "torchvision", "numpy"):
            digest.update(importlib.metadata.version(package).encode())
        return digest.hexdigest()[:16]

    def expect(self, case) -> list:
        if self._frozen is None:
            try:
                self._frozen = self._load()
            except OSError:  # no usable cache folder: compute every grading, as Live does
                self._frozen = self.live
        return self._frozen.expect(case)

    def _load(self) -> Frozen:
        secret = _secret(self.directory)
        contents = self._verified(secret)
        if contents is None:
            freeze(cases.collect(hidden=True), self.live, self.base, allow_hidden=True, compress=False)
            contents = self._read()
            _write_atomically(self.base.with_suffix(".mac"), _mac(secret, contents).encode())
            evict(self.directory)
        return Frozen(self.base, contents)

    def _read(self):
        return self.base.with_suffix(".json").read_bytes(), self.base.with_suffix(".npz").read_bytes()

    def _verified(self, secret):
        """The entry's bytes when its HMAC verifies (read once: what is checked is what is used)."""
        try:
            mac, contents = self.base.with_suffix(".mac").read_text(), self._read()
        except OSError:
            return None
        if hmac.compare_digest(mac, _mac(secret, contents)):
            return contents
        self.rejected = True
        return None


def _mac(secret: bytes, contents) -> str:
    digest = hmac.new(secret, digestmod=hashlib.sha256)
    for part in contents:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _secret(directory: Path) -> bytes:
    """The cache's HMAC key, made once: 32 random bytes, readable by the grader's user only."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_uid == os.geteuid():
        os.chmod(directory, 0o700)
    path = directory / "key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes()
        if len(secret) == 32:
            return secret
        raise OSError(f"{path} is not a key this grader made") from None
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    return path.read_bytes()


def _write_atomically(path: Path, data: bytes):
    """Write then rename: a grading running beside this one never reads half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def available(cache=True):
    """The reference this copy of the course can give: Live (cached) where solutions/ exist, else Frozen."""
    from ssd_course import impl

    solutions = impl.solutions_dir()
    if solutions is not None and cases.hidden_available():
        return Cached(Live(solutions)) if cache else Live(solutions)
    if FROZEN.with_suffix(".json").is_file():
        return Frozen()
    raise FileNotFoundError("no reference to grade against: neither solutions/ (instructor's "
                            "repository) nor autograder/cases/public_expected.json (student copy)")
