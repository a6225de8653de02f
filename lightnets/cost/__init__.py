"""What a network costs: parameters and multiply-accumulates (MACs), layer by layer, and time.

Two counting conventions (``profile(..., convention=...)``):

``"paper"`` (the default)
    One multiply-accumulate per weight use in a convolution or a fully connected layer, and
    nothing else: BatchNorm is folded into the convolution before it, activations, pooling and
    element-wise adds are free, a bias is free. These are the papers' "Mult-Adds" (MobileNetV1
    §3, Table 2) and torchvision's published "GFLOPS" (the ``_ops`` of its weights, which are
    GMACs). Convolutions inside a squeeze-and-excite block count, as kind ``"se"``.

``"all"``
    Every arithmetic operation of the inference graph, one per element:
    conv / linear as above; a bias add 1 per output element; BatchNorm 1 per element (the
    scale-and-shift y = a·x + b it folds into is one multiply-add); an activation 1 per element;
    SE's channel-wise multiply and residual adds 1 per output element; pooling 1 per element of
    each window (average: an add, max: a compare). Concatenation, channel shuffle, reshapes and
    dropout at inference move memory and cost 0. ``Profile.ops`` is their sum.

The package, one module per job:

- :mod:`~lightnets.cost.formulas`: the closed-form per-layer costs (:func:`standard_conv_macs` ...),
  the ones a learner reads beside the paper;
- :mod:`~lightnets.cost.profile`: :func:`profile`, which counts what a model runs on meta tensors
  under a dispatch mode, and :class:`Profile` / :class:`LayerCost`, its rows and totals;
- :mod:`~lightnets.cost.plan`: :func:`cost_plan`, the cost of a network described as a list of
  layers, without building it;
- :mod:`~lightnets.cost.tools`: :func:`tool_counts`, what thop, ptflops, fvcore, torchinfo and
  ``torch.utils.flop_counter`` would report, one function per tool whose docstring is its rule;
- :mod:`~lightnets.cost.timing`: :func:`latency`, which measures time, which MACs do not predict.
- :mod:`~lightnets.cost.densenet`: DenseNet's cost in closed form (lesson 07), from eq. 2's channel
  counts, without building a model.

``input_size`` is (batch, channels, height, width); a model with another input rank says so with
an ``input_rank`` attribute, and one with a ``min_resolution`` attribute rejects smaller inputs.
"""
from lightnets.cost.formulas import *  # noqa: F401,F403
from lightnets.cost.formulas import __all__ as _formulas
from lightnets.cost.plan import *  # noqa: F401,F403
from lightnets.cost.plan import __all__ as _plan
from lightnets.cost.profile import *  # noqa: F401,F403
from lightnets.cost.profile import __all__ as _profile
from lightnets.cost.timing import *  # noqa: F401,F403
from lightnets.cost.timing import __all__ as _timing
from lightnets.cost.tools import *  # noqa: F401,F403
from lightnets.cost.tools import __all__ as _tools

__all__ = [*_formulas, *_profile, *_plan, *_tools, *_timing]
