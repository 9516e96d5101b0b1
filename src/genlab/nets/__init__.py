"""Networks: generators, discriminators, encoders and decoders."""

from genlab.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from genlab.nets.encoder import GaussianEncoder
from genlab.nets.infogan import InfoGANDiscriminator, InfoGANGenerator
from genlab.nets.mlp import MLPDecoder, MLPDiscriminator
from genlab.nets.resnet import ResNetDiscriminator, ResNetGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GaussianEncoder",
    "InfoGANDiscriminator",
    "InfoGANGenerator",
    "MLPDecoder",
    "MLPDiscriminator",
    "ResNetDiscriminator",
    "ResNetGenerator",
]
