"""python scripts/train.py [overrides]: the same app as `genlab-train`."""

from genlab.cli.train import main

if __name__ == "__main__":
    main()
