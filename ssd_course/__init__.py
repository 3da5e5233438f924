"""ssd_course: build a Single Shot Detector with fastai v2 and PyTorch.

The package is the detector a student's exercise code drives, one module per stage:

    data -> model -> loss -> train -> postprocess -> metrics
                 (viz draws every step; boxes converts every box format and scale)

The exercise functions come from `impl` (the student's `exercises/` or the
instructor's `solutions/`). The course's tooling (the `ssd-course` command, the
lessons' helpers, benchmarks, the release) lives in `ssd_course.tools`, which
imports the detector, never the reverse. Importing this package is cheap: it
imports nothing.
"""
__version__ = "0.1.0"
