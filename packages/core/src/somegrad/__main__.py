"""`python -m somegrad info`."""

import sys

from somegrad.cli import main

sys.exit(main())
