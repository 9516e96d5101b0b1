"""Networks: generators, discriminators, encoders and decoders."""

from genlab.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from genlab.nets.encoder import GaussianEncoder

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "GaussianEncoder"]
