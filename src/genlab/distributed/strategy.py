"""Lightning's DDP strategy, configured for the model being trained."""

from __future__ import annotations

from typing import Any

from hydra.utils import get_class
from pytorch_lightning.strategies import DDPStrategy

from genlab.errors import ConfigError


def needs_unused_parameter_handling(model_target: str) -> bool:
    """Whether the model's backward passes each leave some parameters without gradients."""
    model = get_class(model_target)
    # Declared by the model contract (GenerativeModule.ddp_find_unused_parameters); read by
    # name because models stand above this package. A class outside genlab's hierarchy is
    # refused when it is built (instantiate_model).
    return bool(getattr(model, "ddp_find_unused_parameters", False))


def ddp_strategy(
    model: str, find_unused_parameters: bool | None = None, **ddp_kwargs: Any
) -> DDPStrategy:
    """``DDPStrategy`` for the model class ``model`` (its ``_target_``).

    ``find_unused_parameters=None`` takes what the model declares: GANs update the generator
    and the discriminator in separate backward passes, so each pass leaves the other
    network's parameters without gradients, which DDP must be told to expect. Other keys
    (``start_method``, ``static_graph``, ``gradient_as_bucket_view``, ...) go to Lightning.
    """
    if find_unused_parameters is None:
        find_unused_parameters = needs_unused_parameter_handling(model)
    return DDPStrategy(find_unused_parameters=find_unused_parameters, **ddp_kwargs)


_PLAIN_DDP_NAMES = {"ddp", "ddp_spawn", "ddp_fork", "ddp_notebook"}


def check_strategy_fits_model(strategy: Any, model_target: str) -> None:
    """A strategy named as plain DDP cannot train a model whose backward passes leave
    parameters unused: fail before launching, with the configs that can."""
    if not isinstance(strategy, str) or strategy not in _PLAIN_DDP_NAMES:
        return
    if needs_unused_parameter_handling(model_target):
        raise ConfigError(
            f"trainer.strategy={strategy} cannot train {model_target.rsplit('.', 1)[-1]}: it "
            "updates its two networks in separate backward passes, so each pass leaves some "
            "parameters without gradients; use trainer=ddp, trainer=ddp_spawn or "
            "trainer=ddp_cpu (they configure this), or "
            "trainer.strategy=ddp_find_unused_parameters_true"
        )
