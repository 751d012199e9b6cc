"""``python -m harness``: the soilbench command line."""

from .cli import main

raise SystemExit(main())
