"""python scripts/sample.py [overrides]: the same app as `genlab-sample`."""

from genlab.cli.sample import main

if __name__ == "__main__":
    main()
