"""DCGAN networks (Radford et al. 2015) for any image size of the form 4·2^k or 7·2^k.

28x28 (MNIST-like), 32x32 (CIFAR-like) and 64x64 are the sizes in common use. The
discriminator doubles as the VAE's encoder trunk and the generator as its decoder, so
both model families share one convolutional stack.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from genlab.nets.layers import init_dcgan_weights, norm_layer, output_layer, upsampling_plan


class LatentProjection(nn.ConvTranspose2d):
    """The generator's first layer: a transposed convolution from a 1x1 latent to a
    ``size`` x ``size`` map, computed as the matrix product it is.

    On a 1x1 input each output pixel is a dot product of the latent with one weight slice, so
    ``z @ W`` gives the same sums; on the CPU one matrix product is about 4x faster than the
    oneDNN transposed convolution (forward and backward). Parameters and checkpoint keys are
    those of the ``nn.ConvTranspose2d`` it replaces.
    """

    def __init__(self, in_channels: int, out_channels: int, size: int, bias: bool) -> None:
        super().__init__(in_channels, out_channels, size, 1, 0, bias=bias)

    def forward(self, z: Tensor) -> Tensor:  # type: ignore[override]
        n = z.size(0)
        out = torch.mm(z.reshape(n, self.in_channels), self.weight.reshape(self.in_channels, -1))
        out = out.view(n, self.out_channels, *self.kernel_size)
        return out if self.bias is None else out + self.bias.view(1, -1, 1, 1)


class ImageProjection(nn.ConvTranspose2d):
    """The generator's last layer: a strided transposed convolution to the few image channels,
    computed as its definition, a matrix product followed by col2im (``F.fold``).

    oneDNN's CPU kernel for a transposed convolution with 1 or 3 output channels is about 8x
    slower than this (forward and backward) at DCGAN sizes. The same sums in another order
    (differences at float32 rounding level); parameters and checkpoint keys are those of the
    ``nn.ConvTranspose2d`` it replaces.
    """

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        n, c_in, h, w = x.shape
        k_h, k_w = self.kernel_size
        (s_h, s_w), (p_h, p_w) = self.stride, self.padding
        size = ((h - 1) * s_h - 2 * p_h + k_h, (w - 1) * s_w - 2 * p_w + k_w)
        # (N, C_in, H*W) -> (N, C_out*k_h*k_w, H*W): every input pixel's contribution patch.
        columns = torch.matmul(self.weight.reshape(c_in, -1).t(), x.reshape(n, c_in, h * w))
        out = F.fold(columns, size, self.kernel_size, padding=self.padding, stride=self.stride)
        return out if self.bias is None else out + self.bias.view(1, -1, 1, 1)


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> image (N, channels, image_size, image_size).

    Transposed convolutions with batch norm and ReLU; widths halve as resolution doubles,
    ending at ``width`` channels before the output layer.
    """

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        width: int,
        output: str,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        base, k = upsampling_plan(image_size)
        self.latent_dim = latent_dim
        widths = [width * 2 ** (k - 1 - i) for i in range(k)]
        use_bias = norm == "none"
        layers: list[nn.Module] = [
            LatentProjection(latent_dim, widths[0], base, bias=use_bias),
            norm_layer(norm, widths[0]),
            nn.ReLU(inplace=True),
        ]
        for w_in, w_out in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=use_bias),
                norm_layer(norm, w_out),
                nn.ReLU(inplace=True),
            ]
        layers += [ImageProjection(widths[-1], channels, 4, 2, 1), output_layer(output)]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """image -> (N, out_features) scores; strided convolutions with LeakyReLU(0.2).

    ``norm="none"`` gives the critic WGAN-GP needs (batch norm would break the per-sample
    gradient penalty); ``spectral_norm=True`` wraps every layer (Miyato et al. 2018).
    """

    def __init__(
        self,
        channels: int,
        image_size: int,
        width: int,
        norm: str,
        out_features: int = 1,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        base, k = upsampling_plan(image_size)
        widths = [width * 2**i for i in range(k)]
        sn = apply_spectral_norm if spectral_norm else (lambda module: module)
        layers: list[nn.Module] = [
            sn(nn.Conv2d(channels, widths[0], 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for w_in, w_out in itertools.pairwise(widths):
            layers += [
                sn(nn.Conv2d(w_in, w_out, 4, 2, 1, bias=norm == "none")),
                norm_layer(norm, w_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers += [sn(nn.Conv2d(widths[-1], out_features, base, 1, 0))]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).flatten(start_dim=1)
