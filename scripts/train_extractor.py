"""python scripts/train_extractor.py [overrides]: the same app as `genlab-train-extractor`."""

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
from genlab.cli.train_extractor import main

if __name__ == "__main__":
    main()
