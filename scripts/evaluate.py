"""python scripts/evaluate.py ckpt_path=PATH [overrides]: the same app as `genlab-eval`."""

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
from genlab.cli.evaluate import main

if __name__ == "__main__":
    main()
