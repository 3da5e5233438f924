from ssd_course.tools.cli import main

raise SystemExit(main())
