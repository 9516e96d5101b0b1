"""The x axes a training curve can use: keys of metrics_history.jsonl records, with labels."""

X_AXES = {
    "generator_steps": "generator steps (VAE: optimizer steps)",
    "images_seen": "training images seen",
    "step": "optimizer steps",
}
