"""Sweeps: W&B sweep definitions run on the W&B server or locally by Optuna."""
