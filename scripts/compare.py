"""python scripts/compare.py 'runs=[RUN,...]' out=DIR: the same app as `genlab-compare`
(also as ``python scripts/compare.py RUN... --out DIR``)."""

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
from genlab.cli.compare import main

if __name__ == "__main__":
    main()
