"""How fast is lightnets.profile? Two claims of the cost-model issue, measured in one run.

1. Profiling a large network (EfficientNet-B7 at 600 px when it is registered) on meta tensors is
   at least 5× faster than one real forward pass counted with torch.utils.flop_counter.FlopCounterMode.
2. A compound-scaling configuration (φ = 0 … 8) is costed from its plan by the closed-form
   formulas, without building a model, in under 50 ms (``scaling.network_cost`` and
   ``scaling.compound_cost`` at every half step of φ).
3. Notebook 04's compound widget redraws for a new (α, β, γ, φ) in under 50 ms
   (``widgets.render_compound``, nothing cached for the new values).

These were unit tests once; timings are not tests on a shared machine, so they live here.

Run:  python benchmarks/cost_speed.py [--model NAME] [--resolution PX] [--torchvision]
``--torchvision`` takes the large model from torchvision (same architecture, same MACs) when
lightnets has not registered it yet; torchvision is not a dependency of lightnets.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

import lightnets
from lightnets import cost, scaling
from lightnets.registry import model_spec

PREFERRED = ("efficientnet_b7", "densenet161", "efficientnet_b6", "resnet50", "mobilenet_v1")


def pick_model(name: str | None, resolution: int | None, use_torchvision: bool):
    if name is None:
        registered = lightnets.list_models()
        name = next((n for n in PREFERRED if n in registered), None)
        if name is None or (use_torchvision and name != "efficientnet_b7"):
            name = "efficientnet_b7" if use_torchvision else registered[0]
    if name in lightnets.list_models():
        model, source = lightnets.create_model(name), "lightnets"
        resolution = resolution or model_spec(name).resolution
    else:
        import torchvision

        model, source = getattr(torchvision.models, name)(), f"torchvision {torchvision.__version__}"
        resolution = resolution or {"efficientnet_b7": 600}.get(name, 224)
    return name, source, model.eval(), (1, 3, resolution, resolution)


def timed(fn, repeats: int) -> tuple:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--resolution", type=int)
    parser.add_argument("--torchvision", action="store_true")
    args = parser.parse_args()

    print(f"torch {torch.__version__}, {platform.machine()}, {torch.get_num_threads()} CPU threads")
    name, source, model, size = pick_model(args.model, args.resolution, args.torchvision)
    print(f"\n1. {name} ({source}) at {size[2]} px")
    # Both paths get one untimed warm-up at 64 px: the first dispatch mode in a process makes torch
    # import torch._dynamo (seconds, once), the first forward allocates and picks kernels.
    cold_s, _ = timed(lambda: cost.profile(model, (1, 3, 64, 64)), repeats=1)

    def real_forward(input_size):
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.randn(input_size))
        return counter.get_total_flops()

    real_forward((1, 3, 64, 64))
    profile_s, measured = timed(lambda: cost.profile(model, size), repeats=3)
    forward_s, flops = timed(lambda: real_forward(size), repeats=2)
    print(f"   (first profile in this process, at 64 px: {cold_s * 1e3:.0f} ms, importing torch._dynamo, once per process)")
    print(f"   profile (meta tensors)            {profile_s * 1e3:9.1f} ms   {measured.macs / 1e9:.3f} GMACs")
    print(f"   forward + FlopCounterMode (real)  {forward_s * 1e3:9.1f} ms   {flops / 1e9:.3f} GFLOPs = 2 × MACs: {flops == 2 * measured.macs}")
    print(f"   profile is {forward_s / profile_s:.1f}× faster (needed: ≥ 5×)")

    print("\n2. compound scaling: cost EfficientNet-B0 scaled by φ from its plan, no model built")
    worst = 0.0
    for phi in range(9):
        depth_mult, width_mult, resolution_mult = scaling.multipliers(phi)
        resolution = scaling.scaled_resolution(resolution_mult)
        seconds, result = timed(lambda: scaling.network_cost(width_mult, depth_mult, resolution), repeats=20)
        worst = max(worst, seconds * 1e3)
        print(f"   φ={phi}  {resolution:3d} px  {result.macs / 1e9:7.3f} GMACs"
              f"  {result.params / 1e6:7.2f} M params  {seconds * 1e3:6.3f} ms")
    print(f"   slowest configuration {worst:.3f} ms (needed: < 50 ms)")
    worst = max(timed(lambda: scaling.compound_cost(phi / 2), repeats=5)[0] for phi in range(17))
    print(f"   scaling.compound_cost, φ = 0, 0.5, …, 8: slowest median {worst * 1e3:.3f} ms (needed: < 50 ms)")

    print("\n3. notebook 04's compound widget: one redraw for a new slider value")
    from lightnets import widgets

    for alpha, beta, gamma, phi in [(1.2, 1.1, 1.15, 1.0), (1.5, 1.5, 1.5, 8.0), (1.0, 1.0, 1.0, 0.0)]:
        widgets.render_compound(alpha, beta, gamma, phi)  # B0–B7's costs are computed once, then cached
        times = []
        for step in range(1, 6):
            moved = (alpha + 0.001 * step, beta, gamma, phi)  # new values: nothing cached
            times.append(timed(lambda: widgets.render_compound(*moved), repeats=1)[0])
        print(f"   α={alpha} β={beta} γ={gamma} φ={phi}: median {statistics.median(times) * 1e3:6.2f} ms"
              " (needed: < 50 ms)")


if __name__ == "__main__":
    main()
