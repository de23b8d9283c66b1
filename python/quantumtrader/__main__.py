from quantumtrader.cli import main

raise SystemExit(main())
