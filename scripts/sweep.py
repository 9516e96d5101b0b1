"""python scripts/sweep.py sweep=NAME backend=local|wandb count=N: the same app as `genlab-sweep`."""

from genlab.cli.sweep import main

if __name__ == "__main__":
    main()
