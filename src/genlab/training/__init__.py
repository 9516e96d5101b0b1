"""What `genlab-train` is made of: the run's parts built from its config, and how a run ends."""
