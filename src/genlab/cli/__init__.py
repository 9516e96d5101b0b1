"""Hydra entry points behind scripts/*.py and the genlab-* console scripts."""
