"""Paper baselines: a table of models x seeds at a budget, and "paper vs genlab"."""
