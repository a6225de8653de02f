"""lightnets against torchvision, timm and the counting tools, without any of them installed.

The golden files under tests/references/ were written by tests/references/make.py in a venv that
has the reference libraries (the README says how to regenerate them); each records its command,
date and versions. Here every figure must be equal, and every output equal within float32 noise.
"""
import json
import os

import pytest
import torch

import lightnets
from lightnets import cost
from references import golden

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "references")
MODEL_FILES = sorted(f[:-5] for f in os.listdir(os.path.join(HERE, "models")) if f.endswith(".json"))


def _record(name):
    with open(os.path.join(HERE, "models", f"{name}.json")) as f:
        return json.load(f)


with open(os.path.join(HERE, "tools.json")) as _f:
    TOOLS = json.load(_f)

# The image networks (the tabular models register no input resolution).
IMAGE_MODELS = [n for n in lightnets.list_models() if lightnets.registry.model_spec(n).resolution]


def test_every_model_with_a_reference_has_a_golden_file():
    # torchvision's names are ours; timm has MobileNetV1 and Xception. Only the models no library
    # has (ShuffleNet V1, the CIFAR DenseNet-BC, the generic efficientnet builder) are left out.
    without = {"shufflenet_v1", "densenet_bc", "efficientnet"}
    assert set(MODEL_FILES) == set(IMAGE_MODELS) - without


def test_every_image_model_has_tool_figures():
    assert set(TOOLS["models"]) == set(IMAGE_MODELS)


@pytest.mark.parametrize("name", MODEL_FILES)
def test_same_outputs_as_the_reference_after_loading_the_same_deterministic_fill(name):
    record = _record(name)
    names, shapes, dtypes = zip(*record["state_dict"])
    model = lightnets.create_model(name)
    assert sum(p.numel() for p in model.parameters()) == record["params"]
    lightnets.load_torchvision_weights(model, golden.fill(names, shapes, dtypes))
    with torch.no_grad():
        logits = model.eval()(golden.fixed_input(record["input_size"]))
    misses = golden.compare(golden.summarise(logits), record["outputs"])
    assert not misses, f"{name}: outputs differ from {record['reference']}: {misses[:5]}"


@pytest.mark.parametrize("name", [n for n in MODEL_FILES if _record(n)["published_ops"]])
def test_macs_equal_torchvision_published_gflops_to_three_decimals(name):
    # torchvision's "_ops" are GFLOPS in its convention, i.e. the papers' GMACs.
    for weights in _record(name)["published_ops"]:
        height, width = (weights["crop_size"] * 2)[:2]
        macs = lightnets.profile(lightnets.create_model(name), (1, 3, height, width)).macs
        assert round(macs / 1e9, 3) == weights["gflops"], weights["weights"]


@pytest.mark.parametrize("name", [n for n in MODEL_FILES if "reference_macs" in _record(n)])
def test_macs_equal_the_reference_models_own_count_at_the_native_size(name):
    # timm publishes no count: make.py counted the reference model itself (FlopCounterMode / 2).
    counted = _record(name)["reference_macs"]
    macs = lightnets.profile(lightnets.create_model(name), tuple(counted["input_size"])).macs
    assert macs == counted["macs"], _record(name)["reference"]


# tool_counts' name -> the tool's figure in tools.json
TOOL_FIGURES = {"thop": "thop", "ptflops": "ptflops_pytorch", "ptflops_aten": "ptflops_aten",
                "fvcore": "fvcore", "torchinfo": "torchinfo", "flop_counter": "flop_counter"}


@pytest.mark.parametrize("name", sorted(TOOLS["models"]))
def test_tool_counts_equal_what_each_tool_reported(name):
    figures = TOOLS["models"][name]
    counts = cost.tool_counts(lightnets.create_model(name).eval(), tuple(figures["input_size"]),
                              tools=tuple(TOOL_FIGURES))
    assert {t: counts[t].count for t in TOOL_FIGURES} == {t: figures[f] for t, f in TOOL_FIGURES.items()}


def test_golden_files_record_their_provenance():
    for record in [TOOLS] + [_record(n) for n in MODEL_FILES]:
        meta = record["provenance"]
        assert meta["command"].startswith("python tests/references/make.py")
        assert set(meta["versions"]) >= {"torch", "torchvision", "timm", "thop", "ptflops", "fvcore", "torchinfo"}


def test_the_fill_is_the_documented_integer_formula():
    # u(i, j) = ((40503 j + 7919 i + 12345) mod 65521) / 65521 - 1/2
    assert golden.uniform(2, (3,)).tolist() == [((40503 * j + 7919 * 2 + 12345) % 65521) / 65521 - 0.5
                                               for j in range(3)]
    state = golden.fill(["c.weight", "bn.weight", "bn.running_var", "bn.num_batches_tracked"],
                        [[4, 2, 3, 3], [4], [4], []], ["float32", "float32", "float32", "int64"])
    assert state["bn.running_var"].min() >= 0.5 and state["bn.num_batches_tracked"].item() == 0
    assert state["c.weight"].abs().max() <= (12 / 18) ** 0.5 / 2
