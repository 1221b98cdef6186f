"""python -m optkern: the optkern command (optkern.cli)."""

import sys

from optkern.cli import main

sys.exit(main())
