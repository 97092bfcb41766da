"""`python3 -m benchkit` (from scripts/): the same as scripts/bench."""

import sys

from .cli import main

sys.exit(main())
