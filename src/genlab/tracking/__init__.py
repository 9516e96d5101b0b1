"""Run tracking: the run dir's summary.json and W&B run handling."""
