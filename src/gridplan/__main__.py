"""``python -m gridplan``."""

import sys

from gridplan.cli import main

sys.exit(main())
