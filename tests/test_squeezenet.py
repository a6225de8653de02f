import pytest
import torch
from torch import nn

import lightnets
from lightnets.layers import FireModule
from lightnets.models.squeezenet import TABLE_1, TABLE_1_V1_1, TABLE_2, TABLE_3, FireBypass


@pytest.mark.parametrize("name, gflops", [("squeezenet1_0", 0.819), ("squeezenet1_1", 0.349)])
def test_squeezenet_macs_match_torchvision_published_gflops(profile_of, name, gflops):
    assert round(profile_of(name).macs / 1e9, 3) == gflops  # torchvision _ops at 224 px


def test_squeezenet1_0_table1_parameters_before_pruning_per_layer():
    """Each conv and Fire module has the parameter count of Table 1's "#parameter before pruning"."""
    model = lightnets.create_model("squeezenet1_0")
    layers = [m for m in model.features if any(True for _ in m.parameters())] + [model.classifier[1]]
    ours = [sum(p.numel() for p in m.parameters()) for m in layers]
    assert ours == [row.parameters_before_pruning for row in TABLE_1 if row.parameters_before_pruning]
    assert sum(ours) == 1_248_424  # Table 1, total before pruning


def test_squeezenet1_0_table1_fire_dimensions():
    model = lightnets.create_model("squeezenet1_0")
    fires = [m for m in model.features if isinstance(m, FireModule)]
    dims = [(f.squeeze[0].out_channels, f.expand1x1[0].out_channels, f.expand3x3[0].out_channels) for f in fires]
    assert dims == [(r.squeeze_1x1, r.expand_1x1, r.expand_3x3) for r in TABLE_1 if r.name.startswith("fire")]
    assert dims[0] == (16, 64, 64) and dims[-1] == (64, 256, 256)  # fire2, fire9 in Table 1


@pytest.mark.parametrize("name, table", [("squeezenet1_0", TABLE_1), ("squeezenet1_1", TABLE_1_V1_1)])
def test_squeezenet_table1_output_sizes_are_those_of_a_227px_input(name, table):
    """Table 1 prints 111×111 after conv1, which a 227 px input gives (224 px gives 109)."""
    model = lightnets.create_model(name).to("meta")
    x = torch.empty(1, 3, 227, 227, device="meta")
    sizes = []
    for layer in model.features:
        x = layer(x)
        sizes.append((x.shape[2], x.shape[3], x.shape[1]))
    printed = [row.output_size for row in table[:len(sizes)]]
    if name == "squeezenet1_0":
        assert printed[10] == (13, 12, 512) and sizes[10] == (13, 13, 512)  # maxpool8: Table 1's slip
        printed[10] = (13, 13, 512)
    assert sizes == printed


def test_squeezenet_has_no_batchnorm_and_a_convolutional_head():
    model = lightnets.create_model("squeezenet1_0", num_classes=10)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert [type(m) for m in model.classifier] == [nn.Dropout, nn.Conv2d, nn.ReLU, nn.AdaptiveAvgPool2d]
    assert not any(isinstance(m, nn.Linear) for m in model.modules())


def test_squeezenet_init_matches_torchvision():
    model = lightnets.create_model("squeezenet1_0")
    final = model.classifier[1]
    assert final.weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert all((m.bias == 0).all() for m in model.modules() if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize("dropout", [-0.1, 1.0, "0.5"])
def test_squeezenet_rejects_bad_dropout(dropout):
    with pytest.raises(ValueError, match=r"dropout .*\[0.0, 1.0\)"):
        lightnets.create_model("squeezenet1_0", dropout=dropout)


def test_fire_module_concatenates_expand_1x1_and_3x3():
    fire = FireModule(96, 16, 64, 64)
    assert fire(torch.randn(1, 96, 9, 9)).shape == (1, 128, 9, 9)
    with pytest.raises(ValueError, match="squeeze_channels"):
        FireModule(96, 128, 64, 64)


def test_squeezenet_table3_rows_in_the_papers_order_with_their_builder_argument():
    """Table 3 of arXiv:1602.07360v4: vanilla, simple bypass, complex bypass."""
    assert [r.bypass for r in TABLE_3] == ["none", "simple", "complex"]
    assert [r.top1 for r in TABLE_3] == [57.5, 60.4, 58.8]
    assert [r.model_size_mb for r in TABLE_3] == [4.8, 4.8, 7.7]
    assert TABLE_2[0].model_size_mb == TABLE_3[0].model_size_mb  # the same vanilla network
    assert (TABLE_2[-1].model_size_mb, TABLE_2[-1].data_type) == (0.47, "6 bit")


def test_squeezenet_simple_bypass_wraps_fire3_5_7_9_with_identities_and_adds_no_parameter():
    model = lightnets.create_model("squeezenet1_0", bypass="simple")
    wrapped = [TABLE_1[i].name for i, m in enumerate(model.features) if isinstance(m, FireBypass)]
    assert wrapped == ["fire3", "fire5", "fire7", "fire9"]  # §6: input and output widths match
    assert all(isinstance(m.shortcut, nn.Identity) for m in model.features
               if isinstance(m, FireBypass))
    assert lightnets.profile(model).params == 1_248_424  # Table 3: 4.8 MB, like vanilla


def test_squeezenet_complex_bypass_adds_1x1_convs_around_fire2_4_6_8():
    model = lightnets.create_model("squeezenet1_0", bypass="complex")
    convs = {TABLE_1[i].name: (m.shortcut.in_channels, m.shortcut.out_channels)
             for i, m in enumerate(model.features)
             if isinstance(m, FireBypass) and isinstance(m.shortcut, nn.Conv2d)}
    assert convs == {"fire2": (96, 128), "fire4": (128, 256), "fire6": (256, 384),
                     "fire8": (384, 512)}
    extra = sum(a * b + b for a, b in convs.values())
    assert lightnets.profile(model).params == 1_248_424 + extra == 1_589_672
    # Table 3 prints 7.7 MB; these four 1x1 convs give 6.06 MiB: the paper's bypass is larger
    assert round(1_589_672 * 4 / 2**20, 1) < 7.7


def test_squeezenet_bypass_adds_the_input_after_the_fire_modules_relus():
    torch.manual_seed(0)
    model = lightnets.create_model("squeezenet1_0", bypass="simple").eval()
    block = model.features[3]  # fire3, 128 → 128
    x = torch.randn(1, 128, 9, 9)
    with torch.no_grad():
        assert torch.equal(block(x), block.fire(x) + x)
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


@pytest.mark.parametrize("bypass", ["residual", None, True])
def test_squeezenet_rejects_an_unknown_bypass(bypass):
    with pytest.raises(ValueError, match="bypass must be one of"):
        lightnets.create_model("squeezenet1_0", bypass=bypass)
