"""A network as a graph file, run by ONNX Runtime: ``deploy(model, runtime="onnxruntime")``.

Eager PyTorch runs a network one Python call per layer, each reading its input from memory and
writing its output back. A graph runtime sees the whole network before it runs: ONNX Runtime folds
constants, fuses a convolution with the BatchNorm and the activation after it into one kernel,
and on the CPU reorders activations into a blocked layout (NCHWc) once at the start instead of at
every convolution. Those rewrites are its "graph optimisations"; :class:`OnnxRuntimeModel` can
turn them off (``optimize=False``) to measure what they buy.

:func:`export_onnx` writes the file: the model's BatchNorms are folded first (one node per
conv-BN pair to trace, and the file shows the deployed graph), ``torch.onnx.export(dynamo=True)``
traces it with a free batch dimension, ``onnx.checker`` checks the result, and the bytes go to
disk atomically. :class:`OnnxRuntimeModel` loads such a file and is called like the model: a
torch tensor in, a torch tensor out.
"""
from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import shutil
import tempfile
import warnings
import weakref
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from lightnets._io import atomic_write, check_writable_file
from lightnets._torch import evaluating
from lightnets.cost.profile import check_input_size
from lightnets.deploy.folding import fold_batchnorm

__all__ = ["OnnxRuntimeModel", "export_onnx", "export_and_load", "default_providers",
           "check_image_input_size", "check_export_path", "relative_error"]

# Relative to the largest output magnitude: what "equal to eager" means for a float32 graph run
# by another library (different summation orders, fused kernels), as in the torch runtime's tests.
TOLERANCE = 1e-4
MAX_PROTO_BYTES = 2 ** 31 - 1  # protobuf's limit for one message (bigger models need external data)


def default_providers() -> list:
    """ONNX Runtime's execution providers for this machine: CUDA first where this onnxruntime build
    and a GPU offer it, the CPU always (never required: a CPU-only build simply omits CUDA)."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    chosen = ["CUDAExecutionProvider"] if ("CUDAExecutionProvider" in available
                                           and torch.cuda.is_available()) else []
    return chosen + ["CPUExecutionProvider"]


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    """max |got − expected| / max |expected|: the deployed outputs' error on the outputs' scale."""
    scale = expected.abs().max().clamp_min(torch.finfo(expected.dtype).tiny)
    return ((got - expected).abs().max() / scale).item()


def check_image_input_size(model: nn.Module, input_size) -> tuple:
    """``input_size`` as (batch, channels, height, width) that ``model`` can take: 4 positive ints,
    ``model.in_channels`` channels (where the model says), each side >= ``model.min_resolution``;
    ValueError naming ``input_size`` otherwise."""
    input_size = check_input_size(model, input_size)
    channels = getattr(model, "in_channels", None)
    if len(input_size) != 4:
        raise ValueError(f"input_size must be (batch, channels, height, width), got {input_size}")
    if isinstance(channels, int) and input_size[1] != channels:
        raise ValueError(f"input_size must have {channels} channels for {type(model).__name__} "
                         f"(its in_channels), got {input_size[1]} in {input_size}")
    return input_size


def check_export_path(path) -> str:
    """``path`` (str or PathLike) where a file can be written: its directory is made if missing and
    probed (:func:`lightnets._io.check_writable_file`), so an unwritable place fails before a long
    export, with a ValueError naming ``path`` (the OS's reason attached)."""
    try:
        path, _ = check_writable_file(path, "path")
    except OSError as error:
        directory = os.path.dirname(os.path.abspath(os.fspath(path)))
        raise ValueError(f"path {os.fspath(path)!r} cannot be written: {error.strerror or error} "
                         f"({directory!r}); choose a writable directory or leave path=None for a "
                         "temporary one") from error
    return path


class _TemporaryDirectory:
    """A directory removed when the last object holding this one is garbage collected."""

    def __init__(self) -> None:
        self.name = tempfile.mkdtemp(prefix="lightnets-onnx-")
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.name, ignore_errors=True)


def _inference_copy(model: nn.Module) -> nn.Module:
    """An eval copy with BatchNorms folded and activations out of place: an in-place ReLU6
    (``hardtanh_``) under a symbolic batch size cost the exporter twice the time of the same
    graph out of place (MobileNetV2: 5.9 s vs 3.6 s of CPU), and computes the same values."""
    exported = fold_batchnorm(copy.deepcopy(model).eval()).to("cpu")
    # A lightnets model measures min_resolution on first use, with meta forwards; inside the
    # exporter's trace that search would be traced too (slow, and its failed sizes logged).
    getattr(exported, "min_resolution", None)
    for module in exported.modules():
        if isinstance(getattr(module, "inplace", None), bool):
            module.inplace = False
    return exported


@contextlib.contextmanager
def quiet():
    # The exporter and the quantizer print their progress and warn about optional torchvision
    # ops they skip; none of it concerns a user of a lightnets model. Errors still propagate.
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export",
                                                    "torch._export", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def export_onnx(model: nn.Module, input_size: Sequence[int], path) -> str:
    """Write ``model`` (BatchNorm folded, eval mode) as an ONNX file at ``path`` and return the
    path. The graph takes one float32 input named ``"input"`` of ``input_size`` with the batch
    dimension free (``"batch"``) and returns ``"output"``. ``onnx.checker`` (full check, with
    shape inference) must accept it before anything is written; the write is atomic."""
    import onnx

    check_image_input_size(model, input_size)
    path = check_export_path(path)
    exported = _inference_copy(model)
    # An example batch of 2: torch.export specialises a dimension of size 1 to the constant 1.
    example = torch.randn((2, *input_size[1:]))
    batch = torch.export.Dim("batch")
    with quiet():
        program = torch.onnx.export(exported, (example,), dynamo=True, input_names=["input"],
                                    output_names=["output"], dynamic_shapes=({0: batch},),
                                    optimize=True, verify=False, report=False)
    proto = program.model_proto
    if proto.ByteSize() > MAX_PROTO_BYTES:
        raise ValueError(f"{type(model).__name__} exports to {proto.ByteSize():,} bytes, more than "
                         "ONNX's 2 GiB limit for one file")
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    atomic_write(path, lambda file: file.write(data))
    return path


class OnnxRuntimeModel(nn.Module):
    """An ONNX file run by ONNX Runtime, called like the model it came from.

    ``model(x)``: ``x`` a float32 torch tensor (batch, channels, height, width) with the channels
    and sides the file was exported for and any batch size; returns a torch tensor on ``x``'s
    device. No gradients flow through it. ``path`` is the file, ``size_bytes`` its size.

    ``threads`` is ONNX Runtime's intra-op thread count (default: torch's, so that the two are
    compared like for like); ``optimize=False`` turns its graph optimisations off
    (``ORT_DISABLE_ALL``) to measure what they buy; ``providers`` defaults to
    :func:`default_providers`.
    Copies (``copy.deepcopy``, as ``lightnets.latency`` makes) share the one session.
    """

    def __init__(self, path, *, threads: Optional[int] = None, optimize: bool = True,
                 providers: Optional[Sequence[str]] = None, in_channels: Optional[int] = None,
                 min_resolution: Optional[int] = None, _directory=None) -> None:
        import onnxruntime

        super().__init__()
        if not isinstance(optimize, bool):
            raise ValueError(f"optimize must be True or False, got {optimize!r}")
        if threads is None:
            threads = torch.get_num_threads()
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer, got {threads!r}")
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ValueError(f"path {path!r} is not an ONNX file")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = (
            onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
            else onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL)
        chosen = list(providers) if providers is not None else default_providers()
        self.session = onnxruntime.InferenceSession(path, options, providers=chosen)
        self.path = path
        self.threads = threads
        self.optimize = optimize
        self._directory = _directory  # kept alive with the model: the file lives as long as it
        (first,) = self.session.get_inputs()
        self.input_name = first.name
        self.input_shape = tuple(first.shape)  # ('batch', C, H, W)
        self.output_names = [output.name for output in self.session.get_outputs()]
        self.in_channels = in_channels if in_channels is not None else self.input_shape[1]
        if min_resolution is not None:
            self.min_resolution = min_resolution
        self.eval()

    @property
    def size_bytes(self) -> int:
        return os.path.getsize(self.path)

    @property
    def providers(self) -> list:
        """The execution providers the session actually uses, in order."""
        return self.session.get_providers()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        array = x.detach().to("cpu").contiguous().numpy()
        (output,) = self.session.run(self.output_names[:1], {self.input_name: array})
        return torch.from_numpy(np.ascontiguousarray(output)).to(x.device)

    def _check(self, x) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.dtype != torch.float32:
            raise ValueError(f"x must be float32 (the exported graph's input type), got {x.dtype}")
        expected = self.input_shape[1:]
        if x.dim() != 4 or x.shape[0] < 1 or tuple(x.shape[1:]) != tuple(expected):
            raise ValueError(f"x must have shape (batch >= 1, {', '.join(map(str, expected))}): "
                             f"the channels and sides {os.path.basename(self.path)} was exported "
                             f"for, got {tuple(x.shape)}")

    def __deepcopy__(self, memo):
        # An InferenceSession cannot be copied; it is read-only while it runs, so copies share it.
        clone = copy.copy(self)
        clone.__dict__ = dict(self.__dict__)
        for name in ("_parameters", "_buffers", "_modules"):
            clone.__dict__[name] = dict(self.__dict__[name])
        memo[id(self)] = clone
        return clone

    def extra_repr(self) -> str:
        shape = ", ".join(map(str, self.input_shape))
        return (f"{os.path.basename(self.path)!r}, input ({shape}), "
                f"{', '.join(self.providers)}, threads={self.threads}, optimize={self.optimize}")


def export_and_load(model: nn.Module, input_size: Sequence[int], path=None,
                    threads: Optional[int] = None) -> OnnxRuntimeModel:
    """:func:`export_onnx` to ``path`` (None: a temporary directory removed with the returned
    model), then load it as an :class:`OnnxRuntimeModel` and check it against eager on a random
    batch of ``input_size``: relative error <= 1e-4 or a RuntimeError with the measured error."""
    directory = None
    if path is None:
        directory = _TemporaryDirectory()
        name = getattr(model, "model_name", None) or type(model).__name__.lower()
        path = os.path.join(directory.name, f"{name}.onnx")
    # Eager first: a model that cannot take one float tensor of input_size (a tabular model's
    # integer codes, TabTransformer's two inputs) is refused here, not deep inside the exporter.
    parameter = next(model.parameters(), None)
    x = torch.randn(tuple(input_size), device=parameter.device if parameter is not None else "cpu")
    try:
        with evaluating(model), torch.no_grad():
            expected = model(x)
    except (TypeError, ValueError, RuntimeError, IndexError) as error:
        raise ValueError(f"{type(model).__name__} cannot run on one float32 tensor of input_size "
                         f"{tuple(input_size)}, which is what ONNX export traces: "
                         f"{error}") from error
    if not isinstance(expected, torch.Tensor):
        raise ValueError(f"{type(model).__name__} returns {type(expected).__name__}; ONNX export "
                         "here needs a model that returns one tensor")
    export_onnx(model, input_size, path)
    loaded = OnnxRuntimeModel(path, threads=threads, in_channels=input_size[1],
                              min_resolution=getattr(model, "min_resolution", None),
                              _directory=directory)
    error = relative_error(loaded(x).to("cpu").float(), expected.float().to("cpu"))
    if not error <= TOLERANCE:
        raise RuntimeError(f"ONNX Runtime's outputs differ from eager PyTorch's by {error:.2e} "
                           f"(relative to the largest output), more than {TOLERANCE:.0e}")
    loaded.export_error = error
    return loaded
