"""python scripts/evaluate.py ckpt_path=PATH [overrides]: the same app as `genlab-eval`."""

from genlab.cli.evaluate import main

if __name__ == "__main__":
    main()
