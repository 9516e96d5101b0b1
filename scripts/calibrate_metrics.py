"""python scripts/calibrate_metrics.py data=NAME [overrides]: the same app as `genlab-calibrate`."""

from genlab.cli.calibrate_metrics import main

if __name__ == "__main__":
    main()
