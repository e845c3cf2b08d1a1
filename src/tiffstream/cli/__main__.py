"""``python -m tiffstream.cli``."""

import sys

from . import main

sys.exit(main())
