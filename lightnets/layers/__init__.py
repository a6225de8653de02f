"""The building blocks shared by every lightnets family.

Each block is a small ``nn.Module`` whose submodules are registered in the same order as the
reference implementations (torchvision, timm), so that a reference state dict maps onto ours
tensor by tensor. The families in ``lightnets.models`` only arrange these blocks; none of them
defines its own convolution-BatchNorm-activation. :mod:`~lightnets.layers.blocks` holds the
convolution blocks, :mod:`~lightnets.layers.mbconv` the inverted residual and its parts.
"""
from lightnets.layers.blocks import *  # noqa: F401,F403
from lightnets.layers.mbconv import *  # noqa: F401,F403
