from parlez.cli.main import main

raise SystemExit(main())
