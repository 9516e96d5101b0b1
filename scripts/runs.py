"""python scripts/runs.py [PATH...] [--status S] [--model M] [--group G] [--tag T]: the same
app as `genlab-runs`."""

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
from genlab.cli.runs import main

if __name__ == "__main__":
    main()
