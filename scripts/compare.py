"""python scripts/compare.py 'runs=[RUN,...]' out=DIR: the same app as `genlab-compare`
(also as ``python scripts/compare.py RUN... --out DIR``)."""

from genlab.cli.compare import main

if __name__ == "__main__":
    main()
