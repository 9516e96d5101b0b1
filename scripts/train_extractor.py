"""python scripts/train_extractor.py [overrides]: the same app as `genlab-train-extractor`."""

from genlab.cli.train_extractor import main

if __name__ == "__main__":
    main()
