"""python scripts/reproduce.py baseline=NAME seeds=K budget=cpu: the same app as `genlab-reproduce`."""

from genlab.cli.reproduce import main

if __name__ == "__main__":
    main()
