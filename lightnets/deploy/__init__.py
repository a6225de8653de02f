"""Inference speed without changing the answer: ``lightnets.deploy(model, runtime=...)``.

Two runtimes, one contract (the deployed model's outputs equal the model's within 1e-4 of their
scale; the model itself is untouched):

``runtime="torch"`` (the default)
    A PyTorch copy with every BatchNorm folded into the convolution before it
    (:mod:`lightnets.deploy.folding`), 4-D weights in ``channels_last`` (NHWC) order, which
    oneDNN's CPU convolutions and cuDNN's tensor cores prefer, and optionally handed to
    ``torch.compile`` or to TorchScript (trace, then ``torch.jit.freeze``).
``runtime="onnxruntime"``
    The folded copy exported to an ONNX file and run by ONNX Runtime
    (:mod:`lightnets.deploy.onnx_runtime`); int8 versions of it come from
    :func:`~lightnets.deploy.int8.quantize_int8`.

The face only checks arguments and dispatches; each runtime lives in its own module below it.
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence

import torch
from torch import nn

from lightnets._checks import check_int
from lightnets.deploy.folding import ChannelAffine, fold_batchnorm
from lightnets.deploy.int8 import Agreement, Int8Report, quantize_int8
from lightnets.deploy.onnx_runtime import (OnnxRuntimeModel, check_export_path,
                                            check_image_input_size, export_and_load, export_onnx)

__all__ = ["deploy", "fold_batchnorm", "ChannelAffine", "OnnxRuntimeModel", "export_onnx",
           "quantize_int8", "Int8Report", "Agreement", "RUNTIMES"]

RUNTIMES = ("torch", "onnxruntime")


def _check_flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_runtime(runtime) -> str:
    """``runtime`` must be one of :data:`RUNTIMES`; a ValueError listing them otherwise."""
    if not isinstance(runtime, str) or runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(map(repr, RUNTIMES))}, got "
                         f"{runtime!r}")
    return runtime


def deploy(
    model: nn.Module,
    runtime: str = "torch",
    *,
    input_size: Optional[Sequence[int]] = None,
    channels_last: bool = True,
    compile: bool = False,
    torchscript: bool = False,
    path=None,
    threads: Optional[int] = None,
) -> nn.Module:
    """An inference copy of ``model`` that computes the same outputs faster; ``model`` is untouched.

    ``runtime="torch"``:

    * BatchNorm folded into the preceding convolution or linear layer (see
      :mod:`lightnets.deploy.folding`); the copy is in eval mode, so dropout is off and the
      running statistics are used.
    * ``channels_last``: 4-D weights in NHWC order (inputs may stay NCHW; the first convolution's
      output follows its weight's layout).
    * ``compile``: wrap in ``torch.compile`` (compiles on the first call, which is slow; needs a C
      compiler on CPU).
    * ``torchscript``: trace on a random input of ``input_size`` (default ``(1, C, 224, 224)``,
      C the model's ``in_channels`` or 3) and freeze with ``torch.jit.freeze``. Tracing records one
      path through the model: Python-side checks (e.g. the input-size check) are not kept.

    ``compile`` and ``torchscript`` are alternatives; asking for both is a ValueError.

    ``runtime="onnxruntime"`` returns an :class:`OnnxRuntimeModel`, called like the model (torch
    tensor in, torch tensor out, any batch size; channels and sides fixed at ``input_size``'s,
    default ``(1, C, 224, 224)``). The ONNX file goes to ``path`` (default: a temporary directory
    removed with the returned model), written atomically after ``onnx.checker`` accepted it;
    ``threads`` is ONNX Runtime's thread count (default: torch's). The outputs are checked
    against eager on a random batch before it is returned (``.export_error``, at most 1e-4).
    ONNX Runtime uses its CUDA provider where its build and a GPU offer it, else the CPU.
    """
    check_runtime(runtime)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_flag("channels_last", channels_last)
    _check_flag("compile", compile)
    _check_flag("torchscript", torchscript)
    if runtime == "onnxruntime":
        return _deploy_onnxruntime(model, input_size, path, threads, channels_last, compile,
                                   torchscript)
    if path is not None or threads is not None:
        raise ValueError("path and threads are options of runtime='onnxruntime'")
    if compile and torchscript:
        raise ValueError("compile and torchscript are alternatives: set at most one to True")
    if input_size is not None:
        if not torchscript:
            raise ValueError("input_size is only used with torchscript=True (to trace the model) "
                             "or runtime='onnxruntime' (to export it)")
        input_size = _check_input_size(input_size)

    deployed = fold_batchnorm(copy.deepcopy(model).eval())
    if channels_last:
        deployed = deployed.to(memory_format=torch.channels_last)
    if compile:
        return torch.compile(deployed)
    if torchscript:
        if input_size is None:
            input_size = (1, getattr(model, "in_channels", 3), 224, 224)
        parameter = next(deployed.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        example = torch.randn(input_size, device=device)
        with torch.no_grad():
            traced = torch.jit.trace(deployed, example, check_trace=False)
        return torch.jit.freeze(traced)
    return deployed


def _deploy_onnxruntime(model, input_size, path, threads, channels_last, compile, torchscript):
    if compile or torchscript:
        raise ValueError("compile and torchscript are options of runtime='torch'; "
                         "runtime='onnxruntime' compiles the graph itself")
    del channels_last  # ONNX Runtime chooses its own layout (NCHWc blocks on the CPU)
    if input_size is None:
        input_size = (1, getattr(model, "in_channels", 3), 224, 224)
    input_size = check_image_input_size(model, input_size)
    if path is not None:
        check_export_path(path)
    if threads is not None:
        check_int("threads", threads, low=1)
    return export_and_load(model, input_size, path, threads)


def _check_input_size(input_size) -> tuple:
    if not isinstance(input_size, (tuple, list)) or len(input_size) < 2:
        raise ValueError(f"input_size must be a tuple like (batch, channels, height, width), "
                         f"got {input_size!r}")
    for i, size in enumerate(input_size):
        check_int(f"input_size[{i}]", size, low=1)
    return tuple(input_size)
