"""int8 calibration methods on real photos: which keeps the fp32 answers, and how fast is int8?

A pretrained network (default EfficientNet-Lite0) is exported once to ONNX Runtime (fp32), then
quantized three times (``lightnets.deploy.quantize_int8``: QDQ, per-channel weights), calibrated
with min-max, percentile and entropy on the same ``--calibration`` crops of real photos
(``lightnets.data.photos()``: the photographs scikit-image and scikit-learn ship). Each int8 model
is compared with fp32 on ``--held-out`` other crops (random windows of the same photos, never a
calibration crop): top-1 and top-5 agreement with Wilson intervals, the largest logit error.
Crops of a few photos are not independent samples, so the intervals are optimistic. Then fp32 and
the three int8 models are timed at batch 1, interleaved (median and IQR over ``--repeats``
rounds of the per-round ratio int8 / fp32).

Needs a lightnets with ``create_model(name, pretrained=True)`` for the model and
``lightnets.data.photos()``; says so and stops where they are missing. Run:
    python benchmarks/int8_calibration.py [--model efficientnet_lite0] [--threads 1] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch

import lightnets
from lightnets import phone
from lightnets._io import atomic_write
from lightnets.deploy import deploy, quantize_int8
from lightnets.deploy.int8 import METHODS
from lightnets.experiments import RESULTS_DIRECTORY, versions
from lightnets.experiments._timing import cpu_model, median_iqr

DEFAULT_OUT = os.path.join(RESULTS_DIRECTORY, "int8_calibration.json")


def time_pair(functions: dict, x: torch.Tensor, repeats: int, runs: int, warmup: int) -> dict:
    names = list(functions)
    times = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            samples = []
            for i in range(warmup + runs):
                start = time.perf_counter()
                functions[name](x)
                if i >= warmup:
                    samples.append(1e3 * (time.perf_counter() - start))
            times[name].append(float(np.median(samples)))
    return times


def _portable(arguments: list) -> list:
    """The command's arguments with paths inside this repository written relative to its root,
    so that the record names no machine's directories."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [os.path.relpath(a, root) if os.path.isabs(a) and a.startswith(root + os.sep) else a
            for a in arguments]


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=os.path.dirname(lightnets.__file__),
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--calibration", type=int, default=32)
    parser.add_argument("--held-out", type=int, default=96)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=DEFAULT_OUT, help="JSON results file ('' to write none)")
    parser.add_argument("--source", default="", help="which lightnets ran, for the record (its "
                        "git commit is recorded where it is a checkout)")
    args = parser.parse_args(argv)
    if args.model not in lightnets.list_models():
        sys.exit(f"{args.model} is not registered in this lightnets; nothing measured")
    try:
        from lightnets.data import photos
        from lightnets.imagenet import preprocessing
        model = lightnets.create_model(args.model, pretrained=True).eval()
    except (ImportError, TypeError, ValueError) as error:
        sys.exit(f"needs pretrained {args.model} and lightnets.data.photos(): {error}")
    torch.set_num_threads(args.threads)
    lightnets.seed_everything(args.seed)
    rng = np.random.default_rng(args.seed)
    prepare = preprocessing(model)
    pictures = photos()
    calibration = prepare(phone.photo_crops(pictures, args.calibration, rng))
    held_out = prepare(phone.photo_crops(pictures, args.held_out, rng))
    side = calibration.shape[-1]

    fp32 = deploy(model, "onnxruntime", input_size=(1, 3, side, side), threads=args.threads)
    with torch.no_grad():
        eager_top1 = model(held_out).argmax(1)
    fp32_top1 = torch.cat([fp32(held_out[i:i + 16]) for i in range(0, len(held_out), 16)])
    fp32_top1 = fp32_top1.argmax(1)
    results = {"format": "lightnets int8 calibration v1",
               "command": "python benchmarks/int8_calibration.py " + " ".join(
                   _portable(sys.argv[1:] if argv is None else argv)),
               "seed": args.seed, "model": args.model, "lightnets_commit": git_commit(),
               "source": args.source,
               "versions": versions("onnx", "onnxruntime", "onnxscript", "scikit-image",
                                    "scikit-learn"),
               "cpu": cpu_model(), "machine": platform.machine(), "threads": args.threads,
               "load_average": os.getloadavg(), "photos": [p.name for p in pictures],
               "calibration_crops": args.calibration, "held_out_crops": args.held_out,
               "fp32_equals_eager_top1": int((fp32_top1 == eager_top1).sum()),
               "fp32_bytes": fp32.size_bytes, "methods": {}}
    print(f"{args.model}: fp32 ONNX Runtime keeps eager's top-1 on "
          f"{results['fp32_equals_eager_top1']}/{args.held_out} held-out crops")
    quantized = {}
    for method in METHODS:
        int8, report = quantize_int8(fp32, calibration, method=method)
        agreement = report.evaluate(held_out)
        quantized[method] = int8
        results["methods"][method] = {
            "int8_bytes": report.int8_bytes, "top1": agreement.top1, "top5": agreement.top5,
            "images": agreement.images, "top1_interval": agreement.top1_interval,
            "top5_interval": agreement.top5_interval,
            "max_logit_error": agreement.max_logit_error,
            "median_image_error": agreement.median_image_error}
        low, high = agreement.top1_interval
        print(f"{method:10s} top-1 kept {agreement.top1}/{agreement.images} "
              f"({100 * agreement.top1_rate:.0f} %, 95 % CI {100 * low:.0f}–{100 * high:.0f} %), "
              f"top-5 {agreement.top5}/{agreement.images}, largest logit error "
              f"{agreement.max_logit_error:.2f}, {report.int8_bytes / 1e6:.1f} MB "
              f"(fp32 {report.fp32_bytes / 1e6:.1f} MB)", flush=True)
    x = held_out[:1].contiguous()
    times = time_pair({"fp32": fp32, **quantized}, x, args.repeats, args.runs, args.warmup)
    results["times_ms"] = times
    for method in METHODS:
        ratio = median_iqr([a / b for a, b in zip(times[method], times["fp32"])])
        results["methods"][method]["time_ratio_int8_over_fp32"] = ratio
        print(f"{method:10s} int8 time / fp32 time {ratio[0]:.2f} ± {ratio[1]:.2f} (IQR); fp32 "
              f"{median_iqr(times['fp32'])[0]:.1f} ms")
    results["load_average_end"] = os.getloadavg()
    if args.out:
        text = json.dumps(results, indent=1)
        atomic_write(args.out, lambda f: f.write(text), binary=False)
        print(f"wrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
