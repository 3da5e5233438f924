"""Reference solutions of the six exercises (the instructor's copy).

Each module is the single source of its student stub: `ssd-course stubs`
blanks the regions between the ``BEGIN EXERCISE`` / ``END EXERCISE`` markers
and writes ``ssd_course/exercises/<module>.py``. Never shipped to students.
"""
