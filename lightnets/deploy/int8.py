"""int8 after training: ONNX Runtime's static quantization, and how far its answers move.

Every weight and activation tensor of the quantized graph is ``scale · (q − zero_point)`` with 8-bit
codes ``q`` (Jacob et al. 2018, eq. 1). Weights are quantized per output channel (each filter its
own scale: a depthwise filter's range can differ by orders of magnitude from its neighbour's).
Activations need their ranges before the network runs: *calibration* runs the fp32 graph on a
few images and picks each tensor's range from what it saw:

``"minmax"``      the smallest and largest value seen: nothing clips, but one outlier stretches
                  the scale and every other value gets fewer codes;
``"percentile"``  the 99.999th percentile of the magnitudes seen (ONNX Runtime's default
                  percentile): the rare outliers clip, the rest gets finer codes;
``"entropy"``     the range whose clipped, 128-level histogram keeps the most information about
                  the full 2048-bin one (smallest KL divergence; TensorRT's calibrator, Migacz
                  2017, "8-bit inference with TensorRT"). ONNX Runtime's ``quantize_static``
                  builds it with 128 bins for 128 levels, where the only candidate is the full
                  range, i.e. min-max (its scales came out identical); the calibrator is therefore
                  run here with 2048 bins, and its ranges handed to the quantizer.

The graph is written in the QDQ format (QuantizeLinear → DequantizeLinear pairs around each
quantized tensor), which ONNX Runtime fuses into integer kernels when it loads the file.

The report's :meth:`Int8Report.evaluate` measures what a learner must check before shipping: on
images *not* used for calibration (it refuses any that were), how often the int8 model's top-1
class is the fp32 model's (with Wilson intervals) and how far its logits moved.
"""
from __future__ import annotations

import hashlib
import os
import statistics
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import torch
from torch import nn

from lightnets._checks import check_choice, check_int
from lightnets._io import atomic_write
from lightnets.deploy.onnx_runtime import (OnnxRuntimeModel, _TemporaryDirectory,
                                           check_export_path, check_image_input_size,
                                           export_and_load, quiet)
from lightnets.stats import binomial_interval

__all__ = ["METHODS", "ACTIVATIONS", "quantize_int8", "Int8Report", "Agreement",
           "calibration_batch"]

METHODS = ("minmax", "percentile", "entropy")
ACTIVATIONS = ("uint8", "int8")
CALIBRATION_CHUNK = 8  # images per calibration run: ONNX Runtime keeps every activation of a run


def calibration_batch(images, name: str = "calibration") -> torch.Tensor:
    """``images`` (an (N, C, H, W) float tensor, or an iterable of (C, H, W) or (n, C, H, W)
    tensors) as one float32 (N, C, H, W) tensor on the CPU; ValueError naming ``name`` when there
    are none, when they are not finite float images, or when their shapes differ."""
    if isinstance(images, torch.Tensor):
        parts = [images] if images.dim() == 4 else [images.unsqueeze(0)] if images.dim() == 3 \
            else None
        if parts is None:
            raise ValueError(f"{name} must be an (N, C, H, W) tensor of images, got shape "
                             f"{tuple(images.shape)}")
    elif isinstance(images, Iterable) and not isinstance(images, (str, bytes)):
        parts = []
        for i, image in enumerate(images):
            if not isinstance(image, torch.Tensor) or image.dim() not in (3, 4):
                what = tuple(image.shape) if isinstance(image, torch.Tensor) else \
                    type(image).__name__
                raise ValueError(f"{name}[{i}] must be a (C, H, W) or (n, C, H, W) image tensor, "
                                 f"got {what}")
            parts.append(image if image.dim() == 4 else image.unsqueeze(0))
    else:
        raise TypeError(f"{name} must be a tensor of images or an iterable of image tensors, got "
                        f"{type(images).__name__}")
    if not parts or sum(len(part) for part in parts) == 0:
        raise ValueError(f"{name} holds no images: give at least one (N, C, H, W) image")
    shapes = {tuple(part.shape[1:]) for part in parts}
    if len(shapes) > 1:
        raise ValueError(f"{name} images must share one (C, H, W) shape, got {sorted(shapes)}")
    batch = torch.cat([part.detach().to("cpu") for part in parts])
    if not batch.is_floating_point():
        raise ValueError(f"{name} must hold float images, got {batch.dtype}")
    batch = batch.float()
    if not torch.isfinite(batch).all():
        raise ValueError(f"{name} images must be finite (no NaN or infinity)")
    return batch.contiguous()


def _fingerprints(batch: torch.Tensor) -> frozenset:
    return frozenset(hashlib.sha256(image.numpy().tobytes()).hexdigest() for image in batch)


@dataclass(frozen=True)
class Agreement:
    """How the int8 model's answers compare with fp32's on ``images`` held-out images.

    ``top1``: images whose int8 top-1 class is fp32's top-1; ``top5``: images whose fp32 top-1 is
    among int8's five highest. Each with its 95 % Wilson interval. ``max_logit_error``: the largest
    |int8 − fp32| logit over all images and classes; ``image_errors``: each image's largest.
    """

    images: int
    top1: int
    top5: int
    top1_interval: tuple
    top5_interval: tuple
    max_logit_error: float
    image_errors: tuple = field(repr=False)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.images

    @property
    def top5_rate(self) -> float:
        return self.top5 / self.images

    @property
    def median_image_error(self) -> float:
        return statistics.median(self.image_errors)


@dataclass(frozen=True)
class Int8Report:
    """What :func:`quantize_int8` made: the method, the calibration count, both files' sizes, and
    the fp32 model it was measured against (``fp32``, an :class:`OnnxRuntimeModel`)."""

    method: str
    activations: str
    calibration_images: int
    fp32_bytes: int
    int8_bytes: int
    fp32: OnnxRuntimeModel = field(repr=False)
    int8: OnnxRuntimeModel = field(repr=False)
    calibration_fingerprints: frozenset = field(repr=False)

    @property
    def size_ratio(self) -> float:
        """int8 file size / fp32 file size (about 1/4: weights go from 4 bytes to 1)."""
        return self.int8_bytes / self.fp32_bytes

    def evaluate(self, images, k: int = 5, confidence: float = 0.95) -> Agreement:
        """Top-1 and top-``k`` agreement of int8 with fp32 on held-out ``images`` (any form
        :func:`calibration_batch` takes), the largest logit error, and Wilson intervals. An image
        that was used for calibration is refused: agreement measured on it would flatter int8."""
        batch = calibration_batch(images, "images")
        seen = [i for i, image in enumerate(batch)
                if hashlib.sha256(image.numpy().tobytes()).hexdigest()
                in self.calibration_fingerprints]
        if seen:
            raise ValueError(f"images {seen[:5]}{'...' if len(seen) > 5 else ''} were used for "
                             "calibration; measure agreement on held-out images only")
        classes = None
        top1 = topk = 0
        errors = []
        for start in range(0, len(batch), 16):
            chunk = batch[start:start + 16]
            reference, quantized = self.fp32(chunk).double(), self.int8(chunk).double()
            classes = reference.shape[1]
            check_int("k", k, low=1, high=classes)
            best = reference.argmax(1)
            top1 += int((quantized.argmax(1) == best).sum())
            ranked = quantized.topk(k, dim=1).indices
            topk += int((ranked == best[:, None]).any(1).sum())
            errors += (quantized - reference).abs().amax(1).tolist()
        return Agreement(len(batch), top1, topk, binomial_interval(top1, len(batch), confidence),
                         binomial_interval(topk, len(batch), confidence), max(errors),
                         tuple(errors))


class _Reader:
    """ONNX Runtime's CalibrationDataReader protocol: ``get_next()`` → one input dict, or None."""

    def __init__(self, name: str, batch: torch.Tensor) -> None:
        self._chunks = iter([{name: batch[i:i + CALIBRATION_CHUNK].numpy()}
                             for i in range(0, len(batch), CALIBRATION_CHUNK)])

    def get_next(self):
        return next(self._chunks, None)


def _calibration_method(method: str):
    from onnxruntime.quantization import CalibrationMethod

    return {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
            "entropy": CalibrationMethod.Entropy}[method]


# Histogram sizes per method: the entropy search needs many more bins than quantized levels
# (TensorRT: 2048 and 128); percentile keeps ONNX Runtime's defaults (2048 bins, 99.999).
_CALIBRATOR_OPTIONS = {"minmax": {}, "percentile": {},
                       "entropy": {"num_bins": 2048, "num_quantized_bins": 128}}


def _calibrate(prepared: str, batch: torch.Tensor, input_name: str, method: str,
               directory: str) -> str:
    """Run ONNX Runtime's calibrator for ``method`` on ``batch`` and save the activation ranges
    it chose as a calibration cache file that ``quantize_static`` reads; returns its path."""
    from onnxruntime.quantization.calibrate import create_calibrator, save_tensors_data

    calibrator = create_calibrator(prepared, augmented_model_path=os.path.join(
        directory, f"augmented-{method}.onnx"), calibrate_method=_calibration_method(method),
        extra_options=_CALIBRATOR_OPTIONS[method])
    calibrator.collect_data(_Reader(input_name, batch))
    ranges = calibrator.compute_data()
    cache = os.path.join(directory, f"ranges-{method}.json")
    save_tensors_data(ranges, cache)
    return cache


def quantize_int8(model: nn.Module, calibration, *, method: str = "minmax",
                  activations: str = "uint8", input_size: Optional[Sequence[int]] = None,
                  path=None, threads: Optional[int] = None) -> tuple:
    """Post-training static int8 quantization of ``model`` through ONNX Runtime (QDQ, per-channel
    int8 weights); returns ``(int8_model, report)``.

    ``calibration``: the images whose activations set the int8 ranges (an (N, C, H, W) tensor or
    an iterable of image tensors, preprocessed as the model expects); keep others aside for
    :meth:`Int8Report.evaluate`. ``method``: one of :data:`METHODS` (see the module docstring).
    ``activations``: ``"uint8"`` (asymmetric uint8 activations with int8 weights, U8S8: ONNX
    Runtime's fast path on x86; with int8 activations, S8S8, SqueezeNet 1.1 and EfficientNet-B0
    ran 2.0x and 3.3x *slower* than fp32 here, with uint8 0.8x and 0.9x) or ``"int8"``.
    ``input_size``: default ``(1, *calibration image shape)``; the int8 model takes any batch of
    that shape. ``model`` may also be the fp32 :class:`OnnxRuntimeModel` that
    ``deploy(model, runtime="onnxruntime")`` returned: its file is quantized without a new
    export (calibrating one export three ways costs one export). ``path``: where the int8 ONNX
    file goes (default: a temporary directory removed with the model), written atomically.
    """
    from onnxruntime.quantization import QuantFormat, QuantType, quant_pre_process
    from onnxruntime.quantization import quantize_static

    check_choice("method", method, METHODS)
    check_choice("activations", activations, ACTIVATIONS)
    if not isinstance(model, nn.Module):
        raise ValueError("model must be a torch.nn.Module or the OnnxRuntimeModel that "
                         "deploy(model, runtime='onnxruntime') returns, got "
                         f"{type(model).__name__}")
    batch = calibration_batch(calibration)
    if isinstance(model, OnnxRuntimeModel):
        exported = (1, *model.input_shape[1:])
        if input_size is not None and tuple(input_size[1:]) != exported[1:]:
            raise ValueError(f"input_size {tuple(input_size)} differs from the one {model.path} "
                             f"was exported for, {exported}")
        input_size = exported
    elif input_size is None:
        input_size = (1, *batch.shape[1:])
    input_size = check_image_input_size(model, input_size)
    if tuple(batch.shape[1:]) != tuple(input_size[1:]):
        raise ValueError(f"calibration images have shape {tuple(batch.shape[1:])}, but "
                         f"input_size {input_size} asks for {tuple(input_size[1:])}")
    if path is not None:
        path = check_export_path(path)
    work = _TemporaryDirectory()
    if isinstance(model, OnnxRuntimeModel):
        fp32 = model
    else:
        fp32 = export_and_load(model, input_size, os.path.join(work.name, "fp32.onnx"), threads)
        fp32._directory = work
    prepared = os.path.join(work.name, "fp32-prepared.onnx")
    # Shape inference and ONNX Runtime's basic rewrites (constant folding, redundant nodes) first,
    # as ONNX Runtime's quantization guide asks: the quantizer then sees every tensor's shape.
    quantized = os.path.join(work.name, "int8.onnx")
    with quiet():
        quant_pre_process(fp32.path, prepared, skip_symbolic_shape=True)
        cache = _calibrate(prepared, batch, fp32.input_name, method, work.name)
        quantize_static(prepared, quantized, None, calibration_cache_path=cache,
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=(QuantType.QUInt8 if activations == "uint8"
                                         else QuantType.QInt8),
                        weight_type=QuantType.QInt8,
                        calibrate_method=_calibration_method(method))
    directory = work
    if path is not None:
        with open(quantized, "rb") as file:
            data = file.read()
        atomic_write(path, lambda out: out.write(data))
        quantized = path
    int8 = OnnxRuntimeModel(quantized, threads=fp32.threads, in_channels=input_size[1],
                            min_resolution=getattr(model, "min_resolution", None),
                            _directory=directory)
    report = Int8Report(method, activations, len(batch), fp32.size_bytes, int8.size_bytes,
                        fp32, int8, _fingerprints(batch))
    return int8, report
