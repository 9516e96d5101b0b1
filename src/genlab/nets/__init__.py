"""Networks: generators, discriminators, encoders and decoders."""

from genlab.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from genlab.nets.encoder import GaussianEncoder
from genlab.nets.infogan import InfoGANDiscriminator, InfoGANGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GaussianEncoder",
    "InfoGANDiscriminator",
    "InfoGANGenerator",
]
