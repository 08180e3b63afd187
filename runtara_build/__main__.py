"""`python -m runtara_build`: the same as the console script."""

import sys

from runtara_build.entry import main

sys.exit(main())
