"""python scripts/runs.py [PATH...] [--status S] [--model M] [--group G] [--tag T]: the same
app as `genlab-runs`."""

from genlab.cli.runs import main

if __name__ == "__main__":
    main()
