"""python scripts/sample.py [overrides]: the same app as `genlab-sample`."""

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
from genlab.cli.sample import main

if __name__ == "__main__":
    main()
