from nst.apps.cli import main

raise SystemExit(main())
