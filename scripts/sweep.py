"""python scripts/sweep.py sweep=NAME backend=local|wandb count=N: the same app as `genlab-sweep`."""

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
from genlab.cli.sweep import main

if __name__ == "__main__":
    main()
