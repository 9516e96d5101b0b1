"""Reference training loops in plain PyTorch, written from the papers' equations.

They share nothing with genlab's models and losses: the parity tests (tests/test_parity.py)
check that genlab's LightningModules, trained by Lightning from the Hydra configs, reproduce
these loops' losses step for step.
"""
