"""python scripts/compare.py PATH... --out DIR: the same app as `genlab-compare`."""

from genlab.cli.compare import main

if __name__ == "__main__":
    main()
