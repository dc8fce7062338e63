"""`python -m inrdict …` is the `inrdict` command (for environments where the console script is not installed)."""

import sys

from inrdict.cli import main

sys.exit(main())
