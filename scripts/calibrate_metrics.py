"""python scripts/calibrate_metrics.py data=NAME [overrides]: the same app as `genlab-calibrate`."""

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
from genlab.cli.calibrate_metrics import main

if __name__ == "__main__":
    main()
