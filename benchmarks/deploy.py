"""From float to phone, timed: eager PyTorch, ``deploy`` (torch), ONNX Runtime fp32 and int8.

For each model, at batch 1 and 224 px, in one process and interleaved (each of ``--repeats``
rounds times every variant once, ``--warmup`` untimed calls then the median of ``--runs`` timed
ones, in an order that rotates from round to round, so that a change in the machine's load
touches all alike). Ratios are taken within a round; the table gives their median over rounds
and their interquartile range (IQR). Variants:

``eager``         the lightnets model in eval mode, under ``torch.no_grad``;
``deploy``        ``lightnets.deploy(model)``: BatchNorm folded, channels_last (torch runtime);
``ort``           ``lightnets.deploy(model, runtime="onnxruntime")``: lightnets' wrapper, torch
                  tensor in and out;
``bare``          a plain ``onnxruntime.InferenceSession`` on the same file and options, fed a
                  ready NumPy array: what the wrapper costs is ``ort / bare``;
``ort_noopt``     the same file with ONNX Runtime's graph optimisations off (``ORT_DISABLE_ALL``,
                  a bare session too): what the fusions and layout changes buy is
                  ``ort_noopt / bare``;
``int8``          ``quantize_int8`` (QDQ, per-channel weights, min-max calibration on
                  ``--calibration`` real photo crops from scikit-image; random smooth images when
                  it is not installed); speed does not depend on the calibration method.

Where torch sees a CUDA GPU, eager and ``deploy`` are also timed on it (and ONNX Runtime's CUDA
provider, where its build has one). Results go to a small JSON file (command, seed, versions, CPU,
threads). Run:  python benchmarks/deploy.py [--threads 1] [--repeats 7] [--runs 5] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch

import lightnets
from lightnets._io import atomic_write
from lightnets.deploy import deploy, quantize_int8
from lightnets.experiments import RESULTS_DIRECTORY, versions
from lightnets.experiments._timing import cpu_model, median_iqr

MODELS = ("mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0",
          "squeezenet1_1", "efficientnet_lite0")
VARIANTS = ("eager", "deploy", "ort", "bare", "ort_noopt", "int8")
RATIOS = {  # name: (numerator, denominator), times
    "deploy/eager": ("deploy", "eager"), "ort/eager": ("ort", "eager"),
    "int8/eager": ("int8", "eager"), "ort/deploy": ("ort", "deploy"),
    "ort/bare": ("ort", "bare"), "noopt/bare": ("ort_noopt", "bare"), "int8/ort": ("int8", "ort"),
}
DEFAULT_OUT = os.path.join(RESULTS_DIRECTORY, "deploy_benchmark.json")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def photo_crops(count: int, side: int = 224, seed: int = 0) -> tuple:
    """``count`` (3, side, side) crops of scikit-image's sample photos, ImageNet-normalised, and
    where they came from; smooth random images where scikit-image is missing."""
    generator = np.random.default_rng(seed)
    try:
        from skimage import data
    except ImportError:
        small = torch.Generator().manual_seed(seed)
        x = torch.rand(count, 3, side // 16, side // 16, generator=small)
        x = torch.nn.functional.interpolate(x, size=side, mode="bilinear", align_corners=False)
        return _normalise(x), "random smooth images (scikit-image not installed)"
    names = ("astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry")
    photos = [getattr(data, name)() for name in names if hasattr(data, name)]
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        height, width = photo.shape[:2]
        size = int(generator.integers(min(height, width) // 2, min(height, width) + 1))
        top = int(generator.integers(0, height - size + 1))
        left = int(generator.integers(0, width - size + 1))
        crop = torch.from_numpy(np.ascontiguousarray(photo[top:top + size, left:left + size, :3]))
        crop = crop.permute(2, 0, 1)[None].float() / 255
        crops.append(torch.nn.functional.interpolate(crop, size=side, mode="bilinear",
                                                     align_corners=False, antialias=True))
    return _normalise(torch.cat(crops)), f"random crops of scikit-image photos: {', '.join(names)}"


def _normalise(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()


def bare_session(path: str, threads: int, optimize: bool):
    """A plain ONNX Runtime session with the wrapper's options: a function of a NumPy array."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = (onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
                                        if optimize else
                                        onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL)
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda array: session.run(None, {name: array})


def build(name: str, threads: int, calibration: torch.Tensor) -> tuple:
    """The variants of one model: name → (function, its input)."""
    model = lightnets.create_model(name).eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    deployed = deploy(model)
    ort = deploy(model, "onnxruntime", input_size=(1, 3, 224, 224), threads=threads)
    int8, report = quantize_int8(ort, calibration, method="minmax")

    def eager(tensor):
        with torch.no_grad():
            return model(tensor)

    def torch_deploy(tensor):
        with torch.no_grad():
            return deployed(tensor)

    array = x.numpy()
    variants = {"eager": (eager, x), "deploy": (torch_deploy, x), "ort": (ort, x),
                "bare": (bare_session(ort.path, threads, True), array),
                "ort_noopt": (bare_session(ort.path, threads, False), array), "int8": (int8, x)}
    sizes = {"fp32_bytes": report.fp32_bytes, "int8_bytes": report.int8_bytes}
    return variants, sizes, (model, ort, int8)


def time_call(function, argument, runs: int, warmup: int, sync=None) -> float:
    """Median wall time (ms) of ``runs`` calls after ``warmup`` untimed ones."""
    times = []
    for i in range(warmup + runs):
        if sync:
            sync()
        start = time.perf_counter()
        function(argument)
        if sync:
            sync()
        if i >= warmup:
            times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def interleaved(variants: dict, repeats: int, runs: int, warmup: int, sync=None) -> dict:
    names = list(variants)
    times = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            function, argument = variants[name]
            times[name].append(time_call(function, argument, runs, warmup, sync))
    return times


def summarise(name: str, times: dict, ratios: dict) -> dict:
    row = {"model": name, "times_ms": times, "time": {}, "ratio": {}}
    for variant, values in times.items():
        row["time"][variant] = median_iqr(values)
    for key, (top, bottom) in ratios.items():
        if top in times and bottom in times:
            row["ratio"][key] = median_iqr([a / b for a, b in zip(times[top], times[bottom])])
    return row


def gpu_row(name: str, model, repeats: int, runs: int, warmup: int) -> dict:
    """Eager and deploy (torch) on the GPU, plus ONNX Runtime's CUDA provider where present."""
    device = torch.device("cuda")
    on_gpu = model.to(device).eval()
    deployed = deploy(on_gpu)
    x = torch.randn(1, 3, 224, 224, device=device)

    def run(module):
        def call(tensor):
            with torch.no_grad():
                return module(tensor)
        return call

    variants = {"eager": (run(on_gpu), x), "deploy": (run(deployed), x)}
    from lightnets.deploy.onnx_runtime import default_providers
    if default_providers()[0] == "CUDAExecutionProvider":
        variants["ort"] = (deploy(model.cpu(), "onnxruntime", input_size=(1, 3, 224, 224)), x)
    times = interleaved(variants, repeats, runs, warmup, sync=torch.cuda.synchronize)
    return summarise(name, times, {"deploy/eager": ("deploy", "eager"),
                                   "ort/eager": ("ort", "eager")})


def format_header() -> str:
    return (f"{'model':20s} {'eager ms':>13s} {'deploy/eager':>12s} {'ort/eager':>11s} "
            f"{'int8/eager':>11s} {'ort/bare':>11s} {'noopt/bare':>11s} {'int8/ort':>11s}")


def format_row(row: dict) -> str:
    median, iqr = row["time"]["eager"]
    cells = [f"{median:6.1f} ± {iqr:4.1f}"]
    for key in ("deploy/eager", "ort/eager", "int8/eager", "ort/bare", "noopt/bare", "int8/ort"):
        if key in row["ratio"]:
            value, spread = row["ratio"][key]
            cells.append(f"{value:5.2f} ± {spread:4.2f}")
        else:
            cells.append("—")
    widths = (13, 12, 11, 11, 11, 11, 11)
    return f"{row['model']:20s} " + " ".join(f"{c:>{w}s}" for c, w in zip(cells, widths))


def geomean(values: list) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch and ONNX "
                        "Runtime alike (default 1: the same meaning on a busy machine)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--runs", type=int, default=5, help="timed calls per round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls per round")
    parser.add_argument("--calibration", type=int, default=16, help="int8 calibration crops")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--out", default=DEFAULT_OUT, help="JSON results file ('' to write none)")
    args = parser.parse_args(argv)
    for name in ("threads", "repeats", "runs", "calibration"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    torch.set_num_threads(args.threads)
    lightnets.seed_everything(args.seed)
    known = lightnets.list_models()
    skipped = [name for name in args.models if name not in known]
    for name in skipped:
        print(f"skipping {name}: not registered in this lightnets (yet)")
    models = [name for name in args.models if name in known]
    calibration, source = photo_crops(args.calibration, seed=args.seed)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    header = {
        "format": "lightnets deploy benchmark v1",
        "command": "python benchmarks/deploy.py " + " ".join(sys.argv[1:] if argv is None else
                                                               argv),
        "seed": args.seed, "versions": versions("onnx", "onnxruntime", "onnxscript"),
        "cpu": cpu_model(), "machine": platform.machine(), "cores": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "threads": torch.get_num_threads(), "batch": 1, "resolution": 224,
        "repeats": args.repeats, "runs": args.runs, "warmup": args.warmup,
        "calibration": {"images": args.calibration, "source": source, "method": "minmax"},
        "gpu": gpu, "skipped": skipped,
    }
    print(f"{header['command']}\n{header['cpu']}, {header['threads']} thread(s), batch 1, 224 px, "
          f"torch {torch.__version__}, onnxruntime {header['versions']['onnxruntime']}; "
          f"median ± IQR over {args.repeats} interleaved rounds of {args.runs} runs; ratios are "
          f"times (< 1: faster); load average at start {header['load_average']}; "
          f"GPU: {gpu or 'none'}\n")
    print(format_header())
    start = time.perf_counter()
    rows, gpu_rows = [], []
    for name in models:
        variants, sizes, (model, _, _) = build(name, args.threads, calibration)
        times = interleaved(variants, args.repeats, args.runs, args.warmup)
        row = summarise(name, times, RATIOS)
        row.update(sizes)
        rows.append(row)
        print(format_row(row), flush=True)
        if gpu:
            gpu_rows.append(gpu_row(name, model, args.repeats, args.runs, args.warmup))
    if rows:
        summary = {key: geomean([row["ratio"][key][0] for row in rows])
                   for key in RATIOS if all(key in row["ratio"] for row in rows)}
        header["geomean_ratio"] = summary
        print("\ngeometric mean of the median ratios: "
              + ", ".join(f"{key} {value:.2f}" for key, value in summary.items()))
    for row in gpu_rows:
        cells = ", ".join(f"{k} {v[0]:.2f} ± {v[1]:.2f}" for k, v in row["ratio"].items())
        print(f"GPU {gpu}: {row['model']}: eager {row['time']['eager'][0]:.2f} ms; {cells}")
    header["seconds"] = round(time.perf_counter() - start, 1)
    header["load_average_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    if args.out:
        text = json.dumps({**header, "rows": rows, "gpu_rows": gpu_rows}, indent=1)
        atomic_write(args.out, lambda f: f.write(text), binary=False)
        print(f"\nwrote {os.path.relpath(args.out)} in {header['seconds']} s")


if __name__ == "__main__":
    main()
