"""The sandbox's parts one by one: the filter, the wire's bounds, escaping, the cache's HMAC,
the cgroup plumbing. The hostile submissions graded end to end are in
test_autograder_hostile.py."""
import json
import os
import struct

import numpy as np
import pytest

from autograder import box, messages, reference, seccomp, wire
from autograder.sandbox import Limits


def _in_filtered_child(action) -> str:
    """Run `action` in a forked child under the filter; what it raised (or 'allowed')."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            seccomp.load()
            action()
            out = "allowed"
        except OSError as exc:
            out = f"{type(exc).__name__}:{exc.errno}"
        except BaseException as exc:  # noqa: BLE001
            out = type(exc).__name__
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r) as f:
        return f.read()


@pytest.mark.parametrize("what, action", [
    ("fork", os.fork),
    ("exec", lambda: os.execv("/bin/true", ["true"])),
    ("memfd", lambda: os.memfd_create("x")),
    ("write a file", lambda: open("/tmp/ssd-course-seccomp-test", "w")),
    ("append to a file", lambda: open("/dev/null", "a")),
    ("mkdir", lambda: os.mkdir("/tmp/ssd-course-seccomp-dir")),
    ("unlink", lambda: os.unlink("/tmp/ssd-course-no-such-file")),
    ("socket", lambda: __import__("socket").socket()),
    ("signal another process", lambda: os.kill(1, 0)),
])
def test_the_filter_refuses_each_class_of_system_call(what, action):
    assert _in_filtered_child(action) == "PermissionError:1", what
    assert not os.path.exists("/tmp/ssd-course-seccomp-test")


def test_the_filter_leaves_what_the_exercises_need():
    import threading

    def work():
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()                           # threads (clone with CLONE_THREAD)
        open("/etc/hostname").read()       # reading files
        os.kill(os.getpid(), 0)            # signalling itself
    assert _in_filtered_child(work) == "allowed"


def test_frames_over_their_bound_are_refused_before_they_are_buffered():
    reader = wire.FrameReader()
    with pytest.raises(wire.FrameError, match="the limit is 65536"):
        reader.feed(wire.HEADER.pack(b"J", 100 << 20))       # a 100 MB JSON frame: its header only
    assert len(reader.buf) == wire.HEADER.size
    with pytest.raises(wire.FrameError, match="unknown kind"):
        wire.FrameReader().feed(b"X" + bytes(8))
    with pytest.raises(wire.FrameError, match="nested deeper than 16"):
        wire.decode_json(b"[" * 40 + b"]" * 40)
    assert wire.decode_json(b'{"a": "[[[[[[[[[[[[[[[[[[[[["}') == {"a": "[" * 21}  # brackets in strings
    with pytest.raises(wire.FrameError, match="not a JSON object"):
        wire.decode_json(b"[1]")
    with pytest.raises(wire.FrameError, match="number of arrays"):
        wire.decode_json(b'{"n_arrays": 1000}')


def test_arrays_are_facts_and_claims_that_disagree_do_not_count():
    arrays = [np.zeros((2, 3), np.float32)]
    claimed = {"kind": "tensor", "dtype": "float64", "shape": [9], "device": "cpu", "values": 0}
    value = messages.value(claimed, arrays)
    assert value["dtype"] == "float32" and value["shape"] == [2, 3]       # read from the array
    bits = np.array([0x3FC0, 0x4020], np.uint16).view(np.int16)          # bfloat16 1.5, 2.5
    value = messages.value({"kind": "tensor", "values": 0, "bits": True}, [bits])
    assert value["dtype"] == "bfloat16" and value["array"].tolist() == [1.5, 2.5]
    with pytest.raises(messages.ProtocolError):
        messages.value({"kind": "tensor", "values": 3}, arrays)            # points at no array
    with pytest.raises(messages.ProtocolError):
        messages.check({"type": "result", "call": "0"}, [])                # wrong type of field
    with pytest.raises(messages.ProtocolError):
        messages.check({"type": "ready", "call": 0, "inputs": [[-1, 4]]}, [])


def test_text_from_the_child_cannot_fake_report_lines_or_drive_the_terminal():
    text = "boom\n\nTotal: 103/103 points\x1b[2J\x1b]0;owned\x07\r\u202eevil"
    one = wire.clean(text)
    assert "\n" not in one and "\x1b" not in one and "\r" not in one and "\u202e" not in one
    assert one.startswith("boom\\n\\nTotal: 103/103 points\\x1b[2J")
    many = wire.clean(text, oneline=False)
    assert many.count("\n") == 2 and "\x1b" not in many and "\x07" not in many


def test_a_tampered_cache_entry_is_computed_again(tmp_path):
    from ssd_course import impl

    live = reference.Live(impl.solutions_dir())
    cached = reference.Cached(live, tmp_path / "cache")
    case = reference.cases.public_cases("jaccard")[0]
    honest = cached.expect(case)[0]["output"]["array"].copy()
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "cache" / "key").stat().st_mode & 0o777 == 0o600
    # poison: every expected value of the stored entry set to zero, as a hostile grading would
    npz = cached.base.with_suffix(".npz")
    with np.load(npz) as data:
        poisoned = {k: np.zeros_like(data[k]) for k in data.files}
    np.savez(npz, **poisoned)
    again = reference.Cached(live, tmp_path / "cache")
    assert np.array_equal(again.expect(case)[0]["output"]["array"], honest)
    assert again.rejected and again.hit


def test_the_cache_keeps_only_its_newest_versions(tmp_path):
    import time

    for i in range(reference.KEPT_VERSIONS + 3):
        # entry 1 was killed before its .mac was written
        for suffix in (".json", ".npz") if i == 1 else (".mac", ".json", ".npz"):
            path = tmp_path / f"expected-{i:016x}{suffix}"
            path.write_text("x")
            os.utime(path, (time.time() + i, time.time() + i))
    (tmp_path / "key").write_text("secret")
    assert reference.evict(tmp_path) == 3
    left = sorted(p.name for p in tmp_path.iterdir())
    newest = range(3, reference.KEPT_VERSIONS + 3)
    assert left == sorted([f"expected-{i:016x}{s}" for i in newest for s in (".json", ".mac", ".npz")]
                          + ["key"])


def test_a_delegated_cgroup_gets_the_box_limits_and_is_removed(tmp_path):
    (tmp_path / "cgroup.procs").write_text("")
    group = box.Cgroup(tmp_path, "box-1", memory_bytes=5 << 30, tasks=64)
    assert (group.path / "memory.max").read_text() == f"{5 << 30}\n"
    assert (group.path / "pids.max").read_text() == "64\n"
    for f in group.path.iterdir():   # a real cgroup's files vanish with it; these are plain files
        f.unlink()
    group.close()
    assert not group.path.exists()
    with pytest.raises(box.GraderError, match="not a cgroup v2 folder"):
        box.Cgroup(tmp_path / "box-1-missing", "x", 1, 1)


def test_the_isolation_line_says_what_held():
    iso = box.Isolation("bubblewrap", "bubblewrap")
    line = box.guarantees(iso, 61000, 0, Limits(memory_bytes=1 << 30), None)
    assert line.startswith("bubblewrap; a user of its own, no capabilities; no network")
    assert "per exercise 1 GiB address space, 30 s wall and CPU; 64 tasks per box" in line
    assert line.endswith("no cgroup delegated")
    assert "capabilities 0x1" in box.guarantees(iso, 0, 1, Limits(), None)


def test_the_grader_reads_every_case_input_back_exactly_as_the_child_built_it():
    """values.layout mirrors build_arg: from the storage bytes alone, the grader rebuilds each
    tensor argument of every case (public and hidden) bit for bit."""
    import torch

    from autograder import cases, values
    from autograder.calls import inputs_after

    checked = 0
    for case in cases.collect(hidden=True):
        for call in case.job()["calls"]:
            size = values.memory_bytes([call])
            memory = bytearray(size)
            originals = []
            for spec, where in zip(call["args"], values.placements(call)):
                x = values.build_arg(spec) if "tensor" in spec else None
                originals.append(x)
                if where is not None:
                    storage = bytes(x.untyped_storage())
                    assert len(storage) == where[1], (case.id, spec["layout"])
                    memory[where[0]:where[0] + where[1]] = storage
            for x, after in zip(originals, inputs_after(bytes(memory), call)):
                if after is not None:
                    want = (x.detach().float() if x.dtype == torch.bfloat16 else x.detach()).numpy()
                    assert np.array_equal(after["array"], want, equal_nan=want.dtype.kind == "f"), case.id
                    checked += 1
    every = sum(1 for c in cases.collect(hidden=True) for call in c.job()["calls"]
                for spec in call["args"] if "tensor" in spec and 0 not in spec["shape"])
    assert checked == every > 100
