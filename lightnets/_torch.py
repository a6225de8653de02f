"""Small torch mechanics several modules share, kept once at the bottom floor."""
from __future__ import annotations

import contextlib
from typing import Iterator, Optional, Sequence

import torch
from torch import nn
from torch.func import functional_call


@contextlib.contextmanager
def in_mode(model: nn.Module, training: bool) -> Iterator[nn.Module]:
    """Put ``model`` in train (``training=True``) or eval mode for the block, then restore the
    mode it had, even on error."""
    was_training = model.training
    model.train(training)
    try:
        yield model
    finally:
        model.train(was_training)


def evaluating(model: nn.Module):
    """Put ``model`` in eval mode for the block, then restore its train/eval mode, even on error.

    Inference-time measurements (costs, CAMs, accuracy) need BatchNorm's running statistics and no
    dropout; the caller's model must come back as it was given.
    """
    return in_mode(model, False)


def meta_forward(model: nn.Module, input_size: Sequence[int],
                 dtype: Optional[torch.dtype] = None, training: bool = False,
                 watch=None) -> torch.Tensor:
    """One forward pass of ``model`` on a meta tensor of ``input_size``, by default in eval mode
    without autograd.

    Meta tensors carry shapes and no data, so nothing is allocated and no arithmetic is done:
    counting costs, memory or output sides needs shapes only. The model's own parameters and
    buffers are left alone (meta copies stand in for them) and its train/eval mode is restored.
    Hooks and dispatch modes the caller set see every operation. The input has ``dtype``, by
    default the dtype of the model's floating-point parameters. Returns the (meta) output.

    ``training=True`` runs the pass as a training step would: train mode, autograd on, and each
    parameter's copy requiring grad as the parameter does, so autograd keeps for backward what it
    would keep on a real device. ``watch`` (a context manager such as a ``TorchDispatchMode``) is
    entered around the forward alone, after the copies and the input are made: it sees the
    model's operations and nothing else.
    """
    state = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    on_meta = {name: torch.empty_like(value, device="meta").requires_grad_(
                   training and value.requires_grad) for name, value in state.items()}
    if dtype is None:  # the input takes the parameters' dtype (a model moved to float64, say)
        dtype = next((v.dtype for v in state.values() if v.is_floating_point()), None)
    x = torch.empty(tuple(input_size), device="meta", dtype=dtype)
    with in_mode(model, training), torch.set_grad_enabled(training), \
            (watch if watch is not None else contextlib.nullcontext()):
        return functional_call(model, on_meta, (x,))


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: Optional[int] = None,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    r"""Side of a convolution's (or pooling's) output, by PyTorch's formula; 0 where it would fail.

    .. math:: H_{out} = \left\lfloor \frac{H + 2p - d(k - 1) - 1}{s} \right\rfloor + 1

    with "same" padding :math:`p = \lfloor (k - 1)/2 \rfloor` when ``padding`` is None. With
    ``ceil_mode`` (Caffe's pooling, SqueezeNet) the last window may hang over the edge, but it
    must start inside the input or its left padding, so PyTorch drops a window that would start
    beyond it.
    """
    if padding is None:
        padding = (kernel_size - 1) // 2
    if size < 1:
        return 0
    span = size + 2 * padding - dilation * (kernel_size - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return max(out, 0)
    return span // stride + 1 if span >= 0 else 0


def check_device(device, kinds: Sequence[str] = ("cpu", "cuda", "mps")) -> torch.device:
    """``device`` as a ``torch.device`` that this torch build and machine can use (None: CUDA when
    present, else the CPU), of one of ``kinds``; a ValueError naming ``device`` and saying why
    otherwise (a TypeError for a value that is not a device name at all)."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    allowed = ", ".join("cuda, cuda:N" if kind == "cuda" else kind for kind in kinds)
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be None, a str such as 'cpu' or 'cuda', or a torch.device, "
                        f"got {type(device).__name__}")
    try:
        device = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"device must be {allowed}, got {device!r}") from None
    if device.type not in kinds:
        raise ValueError(f"device must be {allowed}, got {str(device)!r}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = "has no CUDA support" if torch.version.cuda is None else "sees no CUDA GPU"
            raise ValueError(f"device {str(device)!r}: this torch {torch.__version__} {build}; "
                             "use device 'cpu' (or leave it out to use a GPU when there is one)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(device)!r}: only {torch.cuda.device_count()} CUDA "
                             "device(s) are visible")
    if device.type == "mps" and not (hasattr(torch.backends, "mps")
                                     and torch.backends.mps.is_available()):
        raise ValueError(f"device {str(device)!r}: this machine has no usable Apple GPU (mps); "
                         "use device 'cpu'")
    return device
