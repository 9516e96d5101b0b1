"""Loss functions: adversarial losses, the gradient penalty, ELBO terms."""

from genlab.losses.adversarial import (
    AdversarialLoss,
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinLoss,
)
from genlab.losses.elbo import BernoulliLikelihood, GaussianLikelihood, kl_standard_normal
from genlab.losses.gradient_penalty import gradient_penalty

__all__ = [
    "AdversarialLoss",
    "BernoulliLikelihood",
    "GaussianLikelihood",
    "HingeLoss",
    "LeastSquaresLoss",
    "MinimaxLoss",
    "NonSaturatingLoss",
    "WassersteinLoss",
    "gradient_penalty",
    "kl_standard_normal",
]
