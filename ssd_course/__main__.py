from ssd_course.cli import main

raise SystemExit(main())
