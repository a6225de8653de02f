"""Write the golden files that tests/test_references.py checks lightnets against in CI.

Run in the reference venv, which has torchvision, timm and the counting tools (see the README):

    /work/venvs/ref/bin/python tests/references/make.py            # every model, every tool
    /work/venvs/ref/bin/python tests/references/make.py --models mobilenet_v2 xception

It writes, atomically, one file per reference model, ``tests/references/models/NAME.json``:
parameter count, torchvision's published ``_ops`` (GFLOPS, i.e. GMACs, at the weights' crop
size), the reference state dict's names, shapes and dtypes in order, and a summary of the
reference model's outputs on ``golden.fixed_input()`` after ``golden.fill``; and
``tests/references/tools.json``: for every lightnets image model, what thop, ptflops (both
backends), fvcore, torchinfo and torch's FlopCounterMode report. Each file records the command,
date and versions that made it.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import io
import json
import os
import platform
import subprocess
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, ROOT]

import torch  # noqa: E402

import golden  # noqa: E402
import lightnets  # noqa: E402
from lightnets._io import atomic_write  # noqa: E402
from lightnets.registry import _REGISTRY  # noqa: E402

PACKAGES = ("torch", "torchvision", "timm", "thop", "ptflops", "fvcore", "torchinfo", "numpy")
TOOLS = ("thop", "ptflops_pytorch", "ptflops_aten", "fvcore", "torchinfo", "flop_counter")
# lightnets name -> (library, the reference's name); torchvision's where it has the model.
TIMM_PAIRS = {"mobilenet_v1": "mobilenetv1_100", "xception": "legacy_xception",
              **{f"efficientnet_lite{i}": f"tf_efficientnet_lite{i}" for i in range(5)}}
NOT_IMAGE_MODELS = ("tab_transformer",)


def reference_pairs() -> dict:
    import torchvision

    pairs = {name: ("torchvision", name) for name in lightnets.list_models()
             if name in torchvision.models.list_models(module=torchvision.models)}
    pairs.update({name: ("timm", ref) for name, ref in TIMM_PAIRS.items()})
    return dict(sorted(pairs.items()))


def build_reference(library: str, name: str) -> torch.nn.Module:
    if library == "torchvision":
        import torchvision

        return torchvision.models.get_model(name, weights=None)
    import timm

    return timm.create_model(name, pretrained=False)


def published_ops(library: str, name: str):
    """torchvision's ``_ops`` (GFLOPS) and crop size for each set of weights; None for timm."""
    if library != "torchvision":
        return None
    import torchvision

    weights = torchvision.models.get_model_weights(name)
    return [{"weights": str(w), "gflops": w.meta["_ops"],
             "crop_size": list(w.transforms().crop_size)} for w in weights if "_ops" in w.meta]


def reference_macs(reference: torch.nn.Module, side: int) -> dict:
    """The reference model's own multiply-accumulates at the model's native side, counted by
    torch's FlopCounterMode (convolutions and matrix products only, 2 FLOPs per MAC): the
    papers' convention, for libraries that publish no count (timm)."""
    from torch.utils.flop_counter import FlopCounterMode

    size = (1, 3, side, side)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        reference(torch.zeros(size))
    return {"input_size": list(size), "macs": counter.get_total_flops() // 2,
            "counter": "torch.utils.flop_counter.FlopCounterMode, FLOPs / 2"}


def model_record(name: str, library: str, reference_name: str) -> dict:
    reference = build_reference(library, reference_name).eval()
    macs = reference_macs(reference, _REGISTRY[name].resolution)
    names = list(reference.state_dict())
    shapes = [list(t.shape) for t in reference.state_dict().values()]
    dtypes = [str(t.dtype).replace("torch.", "") for t in reference.state_dict().values()]
    # In place (state-dict tensors share storage with the model): load_state_dict would drop the
    # version metadata that torchvision's MNASNet insists on.
    with torch.no_grad():
        filled = golden.fill(names, shapes, dtypes)
        for tensor, value in zip(reference.state_dict().values(), filled.values()):
            tensor.copy_(value)
    with torch.no_grad():
        logits = reference(golden.fixed_input())
    if not torch.isfinite(logits).all():
        raise RuntimeError(f"{name}: the fill overflows")
    return {
        "name": name,
        "reference": {"library": library, "name": reference_name},
        "params": sum(p.numel() for p in reference.parameters()),
        "published_ops": published_ops(library, reference_name),
        "reference_macs": macs,
        "input_size": list(golden.INPUT_SIZE),
        "outputs": golden.summarise(logits),
        "state_dict": [[n, s, d] for n, s, d in zip(names, shapes, dtypes)],
    }


def tool_resolution(name: str) -> int:
    """The tools run at 224 px, or at the model's native size where that is smaller (CIFAR)."""
    return min(224, _REGISTRY[name].resolution)


def tool_figures(model: torch.nn.Module, size: tuple) -> dict:
    """What each tool reports for ``model`` on a batch of ``size`` (eval mode)."""
    import ptflops
    import thop
    import torchinfo
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(size)
    figures = {}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        figures["thop"] = int(thop.profile(model, (x,), verbose=False)[0])
        for backend in ("pytorch", "aten"):
            macs, _ = ptflops.get_model_complexity_info(model, tuple(size[1:]), as_strings=False,
                                                        print_per_layer_stat=False, backend=backend)
            figures[f"ptflops_{backend}"] = int(macs)
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        figures["fvcore"] = int(analysis.total())
        summary = torchinfo.summary(model, input_size=size, verbose=0)
        figures["torchinfo"] = int(summary.total_mult_adds)
        with FlopCounterMode(display=False) as counter:
            model(x)
        figures["flop_counter"] = int(counter.get_total_flops())
    return figures


def provenance(argv) -> dict:
    versions = {p: importlib.metadata.version(p) for p in PACKAGES}
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "command": " ".join(["python", os.path.relpath(__file__, ROOT)] + list(argv)),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "versions": versions,
        "lightnets_commit": commit,
        "fill": "tests/references/golden.py",
    }


def write_json(path: str, data: dict) -> None:
    """Indented JSON with each innermost record (a state-dict row, a tool's figures) on one line:
    small, and a change shows as a readable diff."""
    def dump(value, depth):
        pad = " " * depth
        if isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values()):
            items = [f"{pad} {json.dumps(k)}: {dump(v, depth + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + f"\n{pad}}}"
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            return "[\n" + ",\n".join(f"{pad} {json.dumps(v)}" for v in value) + f"\n{pad}]"
        return json.dumps(value)

    text = dump(data, 0)
    json.loads(text)  # the writer above must produce valid JSON
    atomic_write(path, lambda f: f.write(text + "\n"), binary=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--models", nargs="+", metavar="NAME",
                        help="only these lightnets models (default: every one with a reference)")
    parser.add_argument("--skip-tools", action="store_true", help="do not rewrite tools.json")
    parser.add_argument("--skip-models", action="store_true", help="only rewrite tools.json")
    parser.add_argument("--out", default=HERE, help="directory to write to (default: %(default)s)")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    torch.set_num_threads(max(1, torch.get_num_threads()))
    pairs = reference_pairs()
    chosen = args.models or list(pairs)
    unknown = [m for m in chosen if m not in lightnets.list_models()]
    if unknown:
        parser.error(f"--models: unknown {unknown}; choose from {lightnets.list_models()}")
    meta = provenance(argv)
    for name in [] if args.skip_models else chosen:
        if name not in pairs:
            continue
        record = {"provenance": meta, **model_record(name, *pairs[name])}
        write_json(os.path.join(args.out, "models", f"{name}.json"), record)
        print(f"{name}: {record['params']} params, max |logit| {record['outputs']['max_abs']:.3g}")
    if not args.skip_tools:
        path = os.path.join(args.out, "tools.json")
        tools = {"provenance": meta, "mode": "eval", "models": {}}
        if os.path.exists(path) and args.models:
            # Only the chosen rows are rewritten: the others keep the provenance of the run
            # that wrote them, and this run is recorded as an update beside it.
            with open(path) as f:
                tools = json.load(f)
            tools["updates"] = tools.get("updates", []) + [{**meta, "models": args.models}]
        for name in args.models or lightnets.list_models():
            if name in NOT_IMAGE_MODELS:
                continue
            size = (1, 3, tool_resolution(name), tool_resolution(name))
            figures = tool_figures(lightnets.create_model(name).eval(), size)
            tools["models"][name] = {"input_size": list(size), **figures}
            print(f"{name} at {size[2]} px: {figures}")
        tools["models"] = dict(sorted(tools["models"].items()))
        write_json(path, tools)
    return 0


if __name__ == "__main__":
    sys.exit(main())
