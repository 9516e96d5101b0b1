"""python scripts/reproduce.py baseline=NAME seeds=K budget=cpu: the same app as `genlab-reproduce`."""

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
from genlab.cli.reproduce import main

if __name__ == "__main__":
    main()
