"""The grader's trust boundary against a hostile student (issue 11): tests/corpus/hostile_d..k.

Each grading covers several attacks at once, one per exercise file (see
tests/corpus/README.md), and is shared by the tests of its module. While it runs,
a thread watches the whole machine: MemAvailable and this process's RSS every
10 ms, the processes descended from this one every 50 ms. Right after it, what
the attacks left is recorded (processes, files named with the test's marker,
System V segments) and then removed, also when the grader failed; the module's
teardown sweeps once more. Every attack is bounded for a 2-core, 24 GiB machine: about
1.5 GiB each (those a grader without limits lets stay add up to ~5 GiB within one grading),
300 processes at once, and process chains that hold back past ~450 processes on the machine and end by
themselves 60 s after they start, whatever happens to the test.

The corpus files' placeholders (filled by ``fill``): ``{{MARKER}}`` names every process and
file an attack makes, ``{{SITE}}`` is the virtualenv's site-packages, ``{{REPO}}`` the course
repository, ``{{GRADER_PID}}`` this process, ``{{SHMKEY}}`` the first System V key,
``{{LATE}}`` a file standing for results.json, ``{{PORT}}`` the listener, ``{{CACHE}}`` the
expected-value cache of the grading.

Most promises hold in both isolation modes: the sandbox denies the graded code new
processes, memfd, System V shared memory, sockets and file creation (seccomp), runs
it unprivileged and without capabilities, and the grader believes nothing the
child says about itself.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sysconfig
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder import api, cases, sandbox
from autograder.layout import solutions_submission
from corpus.build import make_submission
from ssd_course.impl import repo_root

FULL = {m: sum(c.points for c in cases.collect([m], hidden=True))      # every case's points
        for m in ("flatten_conv", "anchors", "jaccard", "matching", "focal_loss", "nms")}
MiB, GiB = 1 << 20, 1 << 30

# Memory: the limit the memory attacks run under (each tries ~1.5 GiB, 3x the limit); the slack
# covers what is not the submission's: the runner's own torch, the grading process's work, and
# the other tests on the machine (honest gradings measured 0.3-0.85 GiB on a busy 2-core box).
MEM_LIMIT = 512 * MiB
MEM_SLACK = 5 * GiB // 4
# Processes descended from this one during a grading: bwrap, the runner and its exercise
# children (two at a time), and room for a helper or two; the process attack starts 300.
PROC_BOUND = 24
# The grading process's own RSS may grow by this much during a six-exercise grading: its
# expected values (an 80 MB cache) and the children's outputs (the largest honest one,
# jaccard's 2000 x 2000 float32 IoUs, is 16 MB) took up to ~230 MiB; the huge-frame attack
# sends 200 MB (which alone grew an unfixed grader by ~480 MiB).
RSS_GROWTH = 320 * MiB

MARKER = f"ssdhostile{os.getpid()}"
SHMKEY = 0x5D000000 + (os.getpid() % 0x10000) * 16          # the SysV attack's 6 keys start here
SITE = sysconfig.get_paths()["purelib"]                      # the virtualenv's site-packages
FILE_PLACES = ("/tmp", "/", "/var/tmp", "/dev/shm", "/dev", SITE)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")       # C0 controls but \t and \n; DEL; CSI

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="a warm box needs a root grader")
# "warm": bubblewrap, in one warm box (autograder/warm.py) that grades every submission of the
# module one after another, as a grade-all worker does
mode_params = [pytest.param("bubblewrap", marks=needs_bwrap), "process",
               pytest.param("warm", marks=[needs_bwrap, needs_root])]
WARM = {}          # the module's warm box, started at its first warm grading


# --- watching the machine ----------------------------------------------------------------------

def _mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise OSError("no MemAvailable in /proc/meminfo")


def _own_rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _stats():
    """{pid: (ppid, start time, threads, anonymous resident bytes)} of every process on the machine."""
    out, page = {}, os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as f:
                resident, shared = f.read().split()[1:3]
            out[int(entry)] = (int(fields[1]), int(fields[19]), int(fields[17]),
                               (int(resident) - int(shared)) * page)
        except (OSError, IndexError, ValueError):
            continue
    return out


def _descendants(stats, root):
    children = {}
    for pid, (ppid, *_) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, ())
    return found


class Watch:
    """Samples the machine while a grading runs: memory every 10 ms, processes every 50 ms.

    ``mem_drop`` is the largest fall of the machine's MemAvailable below its value at the
    start, less what the machine's other processes (not this one, not its descendants) grew
    (or plus what they shrank) in anonymous memory meanwhile: the other tests of a shared
    machine are not the grading's. ``raw_drop`` is the fall itself.
    """

    def __init__(self):
        self.me = os.getpid()
        self.seen = set()                 # (pid, start time) of every descendant seen
        self.max_procs = self.max_tasks = self.max_machine_procs = 0
        self.mem_drop = 0
        self._stop = threading.Event()

    def _others(self, stats, mine):
        mine = set(mine) | {self.me}
        return sum(v[3] for pid, v in stats.items() if pid not in mine)

    def __enter__(self):
        stats = _stats()
        self.base_avail, self.base_rss = _mem_available(), _own_rss()
        mine = _descendants(stats, self.me)
        self.base_others = self._others(stats, mine)
        self.before = {(pid, stats[pid][1]) for pid in mine}   # not the grading's (a warm box)
        self.min_avail, self.max_rss = self.base_avail, self.base_rss
        self.base_machine_procs = len(stats)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        tick = 0
        while not self._stop.is_set():
            avail = _mem_available()
            self.min_avail = min(self.min_avail, avail)
            self.max_rss = max(self.max_rss, _own_rss())
            if tick % 5 == 0:
                stats = _stats()
                mine = _descendants(stats, self.me)
                self.seen.update((pid, stats[pid][1]) for pid in mine)
                self.seen -= self.before
                self.max_procs = max(self.max_procs, len(mine))
                self.max_tasks = max(self.max_tasks, sum(stats[p][2] for p in mine))
                self.max_machine_procs = max(self.max_machine_procs, len(stats))
                others = self._others(stats, mine) - self.base_others
                self.mem_drop = max(self.mem_drop, self.base_avail - avail - others)
            tick += 1
            self._stop.wait(0.01)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def raw_drop(self):
        return self.base_avail - self.min_avail

    @property
    def rss_growth(self):
        return self.max_rss - self.base_rss

    def alive(self, grace=0.0):
        """Descendants seen during the grading that still run (the same process: same start
        time), after up to `grace` seconds for those already on their way out."""
        deadline = time.monotonic() + grace
        while True:
            stats = _stats()
            found = sorted(pid for pid, start in self.seen if pid in stats and stats[pid][1] == start
                           and not _zombie(pid))
            if not found or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


# --- leftovers and clean-up ----------------------------------------------------------------------

def _marked_processes():
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if MARKER.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def _marked_files():
    places = [*FILE_PLACES, str(repo_root())]
    return sorted({p for place in places for p in glob.glob(os.path.join(place, f"*{MARKER}*"))})


def _segments(pids=()):
    """System V segments of the attack: its keys, or created by a process of the grading."""
    found = []
    try:
        with open("/proc/sysvipc/shm") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        key, shmid, size, cpid = int(fields[0]), int(fields[1]), int(fields[3]), int(fields[4])
        if SHMKEY <= key % (1 << 32) < SHMKEY + 16 or cpid in pids:
            found.append((shmid, size))
    return found


def leftovers(watch):
    pids = {p for p, _ in watch.seen}
    return {"processes": sorted(set(watch.alive(grace=1.0)) | set(_marked_processes())),
            "files": _marked_files(), "segments": _segments(pids)}


def clean_up(watch=None, patience=45.0):
    """Kill and remove whatever the attacks left: by the marker, by key range, by descent."""
    deadline, quiet = time.monotonic() + patience, 0
    while quiet < 3 and time.monotonic() < deadline:     # chains fork on: look until none is seen
        found = _marked_processes() + (watch.alive() if watch else [])
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        quiet = 0 if found else quiet + 1
        time.sleep(0.05)
    for path in _marked_files():
        try:
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
        except OSError:
            pass
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for shmid, _ in _segments({p for p, _ in watch.seen} if watch else ()):
        libc.shmctl(shmid, 0, None)                         # IPC_RMID


# --- gradings ---------------------------------------------------------------------------------

@dataclass
class Graded:
    name: str
    mode: str
    result: api.GradeResult = None
    error: str = None                 # the exception grade() raised, with its traceback
    watch: Watch = None
    left: dict = field(default_factory=dict)
    seconds: float = 0.0
    connections: list = field(default_factory=list)   # what reached the test's listener meanwhile

    def ok(self):
        """The result, or a failure that says the grading itself broke."""
        if self.error is not None:
            pytest.fail(f"grading {self.name} ({self.mode}) raised instead of grading:\n{self.error}")
        return self.result

    def ex(self):
        return {e.module: e for e in self.ok().exercises}

    def texts(self):
        """Everything the grading shows: the report and every string of results.json."""
        result = self.ok()
        return result.report(), json.dumps(result.gradescope(), ensure_ascii=False)


def warm_box():
    """The module's warm box (started before the first warm grading's watch: not the grading's)."""
    from autograder import box
    from autograder.warm import WarmBox

    if "box" not in WARM:
        WARM["box"] = WarmBox(box.choose_isolation("bubblewrap"), sandbox.Limits()).start()
    return WARM["box"]


def grade_now(name, root, mode, limits=None, parallel=2, exercises=None, settle=0.0, heard=None):
    import torch  # noqa: F401  (loaded before the watch starts: its RSS is not the frames')

    graded = Graded(name, mode)
    warm = warm_box() if mode == "warm" else None
    heard = [] if heard is None else heard
    already = len(heard)
    start = time.monotonic()
    with Watch() as watch:
        try:
            graded.result = api.grade(root, exercises=exercises, isolation=mode, warm=warm,
                                      limits=limits or sandbox.Limits(), parallel=parallel)
        except Exception:  # noqa: BLE001  (reported by the test that asserts on it)
            graded.error = traceback.format_exc()
    graded.seconds = time.monotonic() - start
    graded.watch = watch
    if settle:                        # give what outlives the grading time to show itself
        time.sleep(max(0.0, start + graded.seconds + settle - time.monotonic()))
    graded.left = leftovers(watch)
    clean_up(watch)
    time.sleep(0.3)                   # a connection still on its way
    graded.connections = heard[already:]
    _log_figures(graded)
    return graded


def _log_figures(g):
    """With SSD_HOSTILE_FIGURES=FILE, one JSON line per grading: the figures the tests assert on."""
    path = os.environ.get("SSD_HOSTILE_FIGURES")
    if not path:
        return
    w = g.watch
    line = {"name": g.name, "mode": g.mode, "seconds": round(g.seconds, 1),
            "mem_drop_mib": w.mem_drop >> 20, "raw_drop_mib": w.raw_drop >> 20,
            "rss_growth_mib": w.rss_growth >> 20, "max_procs": w.max_procs, "max_tasks": w.max_tasks,
            "machine_procs": [w.base_machine_procs, w.max_machine_procs],
            "left": {k: len(v) for k, v in g.left.items()}, "connections": len(g.connections),
            "error": g.error.strip().splitlines()[-1] if g.error else None,
            "scores": None if g.result is None else {e.module: e.score for e in g.result.exercises}}
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


@pytest.fixture(scope="module")
def listener():
    """A TCP server on this machine's loopback (as a notebook kernel's ports are): what connects."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.settimeout(1)
                try:
                    seen.append(conn.recv(100))
                except OSError:
                    seen.append(b"")
                conn.close()
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile")
    yield path
    if "box" in WARM:
        WARM.pop("box").close()
    clean_up()


@pytest.fixture(scope="module")
def fill(workdir, listener):
    late = workdir / "results.json"
    return {"REPO": repo_root(), "MARKER": MARKER, "SITE": SITE, "GRADER_PID": os.getpid(),
            "SHMKEY": hex(SHMKEY), "LATE": late, "PORT": listener[0], "CACHE": workdir / "no-cache"}


# How each corpus entry is graded: limits, children at once, exercises, seconds to wait after.
PLAN = {
    "hostile_d": {},
    "hostile_e": {"limits": sandbox.Limits(memory_bytes=MEM_LIMIT), "parallel": 1},
    "hostile_f": {"limits": sandbox.Limits(memory_bytes=MEM_LIMIT), "settle": 6.0},
    "hostile_g": {},
    "twin_g": {"exercises": ["jaccard", "focal_loss"]},
    "hostile_h": {},
    "hostile_i": {},
    "hostile_j": {},
}


@pytest.fixture(scope="module")
def graded(workdir, fill, listener):
    done = {}

    def graded(name, mode):
        if (name, mode) not in done:
            if name == "hostile_f":
                Path(fill["LATE"]).write_text('{"score": 0, "written by": "the grader"}\n')
            root = make_submission(name, workdir / f"{name}-{mode}", fill)
            done[name, mode] = grade_now(name, root, mode, heard=listener[1], **PLAN[name])
        return done[name, mode]
    return graded


# --- what every grading must hold -----------------------------------------------------------------

def one_line(reason):
    return bool(reason) and not CONTROL.search(reason) and "\n" not in reason


def zero_with_reason(ex):
    return ex.score == 0 and one_line(ex.reason)


def contained(ex):
    """An exercise doing something forbidden on the side: graded as its code (full marks, the
    attack denied and caught) or stopped (0 with a one-line reason); never anything between."""
    return ex.score == FULL[ex.module] or zero_with_reason(ex)


def describe(ex):
    return f"{ex.module}: {ex.score}/{ex.max_score}, reason {ex.reason!r}, output {ex.output[:300]!r}"


def assert_clean(g):
    """Nothing of the submission is left on the machine, and nothing of it broke the grader."""
    assert g.left == {"processes": [], "files": [], "segments": []}, g.left
    report, results = g.texts()
    assert "Traceback (most recent call last)" not in report + results


# --- capability escape, the grader's processes ------------------------------------------------------

@pytest.mark.parametrize("mode", mode_params)
def test_the_box_cannot_write_outside_nor_reach_the_grader(graded, mode):
    g = graded("hostile_d", mode)
    ex = g.ex()
    assert g.left["files"] == [], f"files written outside the box: {g.left['files']}"
    anchors = ex["anchors"]
    shown = anchors.output + (anchors.reason or "") + g.texts()[0]
    assert "REACHED" not in shown, describe(anchors)      # ptrace / process_vm_readv of the grader
    assert contained(anchors), describe(anchors)
    for module in ("flatten_conv", "jaccard"):
        assert contained(ex[module]), describe(ex[module])
    assert {m: ex[m].score for m in ("matching", "focal_loss", "nms")} == \
        {m: FULL[m] for m in ("matching", "focal_loss", "nms")}
    assert g.ok().isolation.kind == ("bubblewrap" if mode == "warm" else mode)
    assert_clean(g)


# --- memory and processes, per submission ------------------------------------------------------------

@pytest.mark.parametrize("mode", mode_params)
def test_memory_is_limited_for_the_whole_exercise(graded, mode):
    g = graded("hostile_e", mode)
    ex = g.ex()
    drop = g.watch.mem_drop
    assert drop <= MEM_LIMIT + MEM_SLACK, \
        f"the machine lost {drop / GiB:.2f} GiB while grading (limit {MEM_LIMIT / GiB:.2f} GiB " \
        f"+ {MEM_SLACK / GiB:.2f} GiB slack)"
    # forks, memfds, /dev/shm, files in / and /tmp, System V segments: each 3x the limit
    for module in ("flatten_conv", "anchors", "jaccard", "matching", "focal_loss"):
        assert zero_with_reason(ex[module]), describe(ex[module])
    assert ex["nms"].score == FULL["nms"]
    assert_clean(g)


@pytest.mark.parametrize("mode", mode_params)
def test_processes_are_limited_and_none_outlives_the_grading(graded, fill, mode):
    g = graded("hostile_f", mode)
    ex = g.ex()
    assert g.watch.max_procs <= PROC_BOUND, \
        f"{g.watch.max_procs} processes under the grader at once (at most {PROC_BOUND})"
    assert g.watch.mem_drop <= MEM_LIMIT + MEM_SLACK, f"{g.watch.mem_drop / GiB:.2f} GiB"
    assert g.left["processes"] == [], f"{len(g.left['processes'])} processes outlived the grading"
    assert "rewritten" not in Path(fill["LATE"]).read_text(), "a leftover rewrote the results file"
    assert zero_with_reason(ex["flatten_conv"]), describe(ex["flatten_conv"])   # 300 processes
    for module in ("anchors", "jaccard"):        # setsid chains; 300 threads of 8 MiB
        assert contained(ex[module]), describe(ex[module])
    assert {m: ex[m].score for m in ("matching", "focal_loss", "nms")} == \
        {m: FULL[m] for m in ("matching", "focal_loss", "nms")}
    assert_clean(g)


# --- nothing the child says about itself is believed ----------------------------------------------------

@pytest.mark.parametrize("mode", mode_params)
def test_forged_reports_get_the_honest_twins_grade(graded, mode):
    forged, twin = graded("hostile_g", mode).ex(), graded("twin_g", "process").ex()
    for module in ("jaccard", "focal_loss"):
        assert twin[module].score < FULL[module]          # the twin's flaws do cost points
        assert forged[module].score == twin[module].score, \
            f"{module}: forged {forged[module].score}, honest twin {twin[module].score}"
    assert {m: forged[m].score for m in ("flatten_conv", "anchors", "matching", "nms")} == \
        {m: FULL[m] for m in ("flatten_conv", "anchors", "matching", "nms")}
    assert_clean(graded("hostile_g", mode))


@pytest.mark.parametrize("mode", mode_params)
def test_garbage_on_the_grader_pipes_costs_no_other_exercise(graded, mode):
    g = graded("hostile_h", mode)
    ex = g.ex()                               # the grading went through (no GraderError)
    assert contained(ex["matching"]), describe(ex["matching"])
    assert {m: ex[m].score for m in FULL if m != "matching"} == {m: FULL[m] for m in FULL if m != "matching"}
    assert_clean(g)


@pytest.mark.parametrize("mode", mode_params)
def test_malformed_frames_cost_only_their_exercise(graded, mode):
    g = graded("hostile_i", mode)
    ex = g.ex()                               # no traceback out of grade()
    for module in ("flatten_conv", "anchors", "jaccard", "matching", "focal_loss"):
        assert contained(ex[module]), describe(ex[module])
    assert ex["nms"].score == FULL["nms"]
    assert g.watch.rss_growth <= RSS_GROWTH, \
        f"the grading process grew by {g.watch.rss_growth / MiB:.0f} MiB reading the frames"
    assert_clean(g)


# --- text from the child, hidden inputs, the network -----------------------------------------------------

def _all_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _all_strings(k)
            yield from _all_strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _all_strings(v)


@pytest.mark.parametrize("mode", mode_params)
def test_text_from_the_child_cannot_fake_report_lines(graded, mode):
    g = graded("hostile_j", mode)
    ex, result = g.ex(), g.ok()
    report = result.report()
    totals = [line for line in report.splitlines() if re.match(r"\s*Total\b", line)]
    assert totals == [f"Total: {result.score}/{result.max_score} points"], totals
    assert not CONTROL.search(report), repr(CONTROL.search(report))
    for text in _all_strings(result.gradescope()):
        assert not CONTROL.search(text), repr(text[:200])
        assert not any(re.match(r"\s*Total\b", line) for line in text.splitlines()), repr(text[:200])
    for e in result.exercises:
        assert e.reason is None or one_line(e.reason), describe(e)
        assert not CONTROL.search(e.output), repr(e.output[:200])
    assert zero_with_reason(ex["flatten_conv"]), describe(ex["flatten_conv"])
    assert contained(ex["focal_loss"]), describe(ex["focal_loss"])       # bad JSON on its pipe
    assert ex["anchors"].score == FULL["anchors"]                          # printing is free
    assert ex["nms"].score == FULL["nms"]
    assert_clean(g)


def _fingerprints(hidden):
    """The hostile_j attacks' fingerprints of every input of the hidden (or public) cases."""
    import torch

    from autograder import cases as case_registry

    prints = set()
    for case in case_registry.collect(None, hidden=True):
        if case.hidden != hidden:
            continue
        for call in case.calls:
            for spec in call.args:
                if "tensor" not in spec:
                    continue
                prints.add(hashlib.sha256(json.dumps(spec["tensor"]).encode()).hexdigest()[:12])
                base = torch.tensor(spec["tensor"], dtype=torch.float64).reshape(spec["shape"])
                values = base.to(getattr(torch, spec["dtype"])).to(torch.float64).contiguous()
                prints.add(hashlib.sha256(values.numpy().tobytes()).hexdigest()[:12])
    return prints


@pytest.mark.parametrize("mode", mode_params)
def test_hidden_inputs_never_reach_the_report_or_results_json(graded, mode):
    g = graded("hostile_j", mode)
    result = g.ok()
    shown = "\n".join([*g.texts(), *(e.output for e in result.exercises),
                       *(e.reason or "" for e in result.exercises),
                       *(o.detail or "" for o in result.outcomes)])
    hidden = _fingerprints(hidden=True) - _fingerprints(hidden=False)
    assert hidden
    leaked = sorted(p for p in hidden if p in shown)
    assert leaked == [], f"{len(leaked)} of {len(hidden)} hidden inputs shown, e.g. {leaked[:3]}"
    assert_clean(g)


@pytest.mark.parametrize("mode", mode_params)
def test_the_network_is_unreachable(graded, listener, mode):
    g = graded("hostile_j", mode)
    assert g.ex()["nms"].score == FULL["nms"]
    assert g.connections == [], \
        f"the graded code connected to 127.0.0.1:{listener[0]} and sent {g.connections}"


# --- nothing shared between students: the expected-value cache ----------------------------------------------

def _user_cache():
    root = os.environ.get("SSD_COURSE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ssd-course")
    return Path(root)


class _Cache:
    """SSD_COURSE_CACHE pointing at a folder of the test's own while a grading runs."""

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self):
        self.path.mkdir(exist_ok=True)
        self.before = os.environ.get("SSD_COURSE_CACHE")
        os.environ["SSD_COURSE_CACHE"] = str(self.path)
        return self.path

    def __exit__(self, *exc):
        if self.before is None:
            os.environ.pop("SSD_COURSE_CACHE", None)
        else:
            os.environ["SSD_COURSE_CACHE"] = self.before


@pytest.fixture(scope="module")
def cache_grades(workdir, fill, listener):
    """Jaccard alone, under caches of the test's own (never the user's, which is only read): the
    zeros stub against an untouched cache, then per mode, in a copy of that cache, the poisoning
    submission, then a correct jaccard and the stub again."""
    done = {}

    def grade(name, mode, cache):
        root = workdir / f"{name}-{cache.name}"
        if name == "solutions":
            root.mkdir()
            solutions_submission(root)
        else:
            make_submission(name, root, dict(fill, CACHE=cache))
        with _Cache(cache):
            return grade_now(name, root, mode, exercises=["jaccard"], heard=listener[1])

    def run(mode):
        if "seed" not in done:
            seed = workdir / "cache-seed"
            seed.mkdir()
            user = _user_cache()          # only read: a small one, copied, spares computing it
            files = [p for p in user.iterdir() if p.is_file()] if user.is_dir() else []
            if sum(p.stat().st_size for p in files) < 256 * MiB:
                for path in files:
                    shutil.copy(path, seed / path.name)
            done["seed"] = grade("zeros_k", "process", seed)
        if mode not in done:
            cache = workdir / f"cache-{mode}"
            shutil.copytree(workdir / "cache-seed", cache)
            attack = grade("hostile_k", mode, cache)
            done[mode] = done["seed"], attack, grade("solutions", mode, cache), grade("zeros_k", mode, cache)
        return done[mode]
    return run


@pytest.mark.parametrize("mode", mode_params)
def test_a_submission_cannot_change_what_the_next_is_graded_against(cache_grades, mode):
    stub_before, attack, correct, stub_after = cache_grades(mode)
    assert attack.ex()["jaccard"].score == FULL["jaccard"], describe(attack.ex()["jaccard"])
    assert stub_before.ex()["jaccard"].score < FULL["jaccard"]
    assert correct.ex()["jaccard"].score == FULL["jaccard"], \
        f"a correct jaccard graded after the poisoning: {describe(correct.ex()['jaccard'])}"
    assert stub_after.ex()["jaccard"].score == stub_before.ex()["jaccard"].score, \
        f"the zeros stub: {stub_before.ex()['jaccard'].score} before, " \
        f"{stub_after.ex()['jaccard'].score} after the poisoning"
    for g in (attack, correct, stub_after):
        assert_clean(g)


# --- one warm box, one submission after another ------------------------------------------------------

@needs_bwrap
@needs_root
def test_no_submission_takes_the_warm_box_down_or_changes_the_next_grade(graded, workdir):
    """Every corpus entry in the module's warm box, one after another, then solutions/: the box
    was started once, and what came before costs the correct submission nothing."""
    for name in PLAN:
        graded(name, "warm").ok()
    box = warm_box()
    assert box.started == 1 and box.alive(), box.why_dead()
    root = workdir / "solutions-after-warm"
    solutions_submission(root)
    after = grade_now("solutions", root, "warm")
    assert {e.module: e.score for e in after.ok().exercises} == FULL
    assert_clean(after)
    assert box.started == 1
