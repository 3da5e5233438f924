"""`python -m ssd_course ...`: the `ssd-course` command (ssd_course/tools/cli.py)."""
from ssd_course.tools.cli import main

raise SystemExit(main())
