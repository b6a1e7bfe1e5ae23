"""``python -m neurodyn``: the same command line as the ``neurodyn`` console script."""

import sys

from neurodyn.cli import main

sys.exit(main())
