"""The course's tooling around the detector: it imports `ssd_course`, never the reverse.

    cli.py            the `ssd-course` command: one subcommand per module below
    notebook.py       what the lessons call: settings, datasets, saved weights, `needs`, `check_earlier`
    markers.py        the BEGIN/END EXERCISE markers: the one parser of the student's regions
    data.py           `ssd-course data make|show`
    demo.py           `ssd-course demo`: the course end to end
    bench.py          `ssd-course bench`; speed.py and bench_gpu.py measure training
    lessons.py        `ssd-course run-lessons`: every lesson in a fresh kernel

Instructor-only (left out of the student copy, with their commands):

    stubs.py          `ssd-course stubs`: the student stubs, generated from solutions/
    release.py        `ssd-course release`: the student copy
    nbgrader_course.py `ssd-course nbgrader`: a ready nbgrader course
    gpu_check.sh      the GPU machine's check: lesson 08, `bench --gpu`, one torchrun
"""
