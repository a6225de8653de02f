import pytest
import torch
from torch import nn

import lightnets
from lightnets.layers import DenseBlock, DenseLayer, Transition
from lightnets.models.densenet import TABLE_1


@pytest.mark.parametrize("name, blocks", [("densenet121", (6, 12, 24, 16)), ("densenet169", (6, 12, 32, 32)),
                                          ("densenet201", (6, 12, 48, 32))])
def test_densenet_table1_block_lengths(name, blocks):
    model = lightnets.create_model(name)
    ours = tuple(len(list(b.children())) for b in model.features if isinstance(b, DenseBlock))
    assert ours == blocks == tuple(getattr(r, name) for r in TABLE_1 if r.layers.startswith("Dense Block"))


def test_densenet121_table1_depth_is_121_weighted_layers():
    """Table 1's name counts conv and fully connected layers: 1 + 2·58 + 3 + 1 = 121."""
    model = lightnets.create_model("densenet121")
    assert sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules()) == 121


def test_densenet121_table1_output_sizes_at_224px():
    model = lightnets.create_model("densenet121").to("meta")
    x = torch.empty(1, 3, 224, 224, device="meta")
    sides = {}
    for name, layer in model.features.named_children():
        x = layer(x)
        sides[name] = x.shape[-1]
    table = {r.layers: r.output_size for r in TABLE_1}
    assert sides["pool0"] == table["Pooling"] == 56
    assert [sides[f"denseblock{i}"] for i in range(1, 5)] == [table[f"Dense Block ({i})"] for i in range(1, 5)]
    assert [sides[f"transition{i}"] for i in range(1, 4)] == [table[f"Transition Layer ({i})"] for i in range(1, 4)]


def test_densenet_bottleneck_is_4k_and_growth_is_k_with_compression_one_half():
    model = lightnets.create_model("densenet121")
    layer = model.features.denseblock1.denselayer1
    assert layer.conv1.out_channels == 4 * 32 and layer.conv2.out_channels == 32  # §3 bottleneck, k = 32
    assert model.features.conv0.out_channels == 64  # 2k initial filters
    assert model.features.transition1.conv.out_channels == (64 + 6 * 32) // 2  # θ = 0.5


def test_densenet_state_dict_uses_torchvision_names():
    keys = list(lightnets.create_model("densenet121").state_dict())
    assert keys[:2] == ["features.conv0.weight", "features.norm0.weight"]
    assert "features.denseblock1.denselayer1.norm1.weight" in keys
    assert "features.transition3.conv.weight" in keys and "features.norm5.running_var" in keys
    assert keys[-2:] == ["classifier.weight", "classifier.bias"]


@pytest.mark.parametrize("depth, growth_rate, paper_params_millions",
                         [(100, 12, 0.8), (250, 24, 15.3), (190, 40, 25.6)])
def test_densenet_bc_table2_parameters(depth, growth_rate, paper_params_millions):
    model = lightnets.create_model("densenet_bc", depth=depth, growth_rate=growth_rate)  # CIFAR-10 head
    assert round(lightnets.profile(model, (1, 3, 32, 32)).params / 1e6, 1) == paper_params_millions  # Table 2


def test_densenet_bc_cifar_layout_has_three_blocks_of_16_layers_and_a_2k_stem():
    model = lightnets.create_model("densenet_bc")
    blocks = [b for b in model.features if isinstance(b, DenseBlock)]
    assert [len(list(b.children())) for b in blocks] == [16, 16, 16]  # (L - 4) / 6 for L = 100
    assert model.features.conv0.kernel_size == (3, 3) and model.features.conv0.out_channels == 24
    assert model.classifier.out_features == 10


def test_densenet_bc_feature_maps_are_32_16_8():
    """§3 Implementation Details: the three blocks work on 32×32, 16×16 and 8×8 maps."""
    model = lightnets.create_model("densenet_bc").to("meta")
    x = torch.empty(1, 3, 32, 32, device="meta")
    sides = []
    for layer in model.features:
        x = layer(x)
        if isinstance(layer, DenseBlock):
            sides.append(x.shape[-1])
    assert sides == [32, 16, 8]


@pytest.mark.parametrize("depth", [99, 101, 40.0, 4])
def test_densenet_bc_rejects_depths_that_are_not_6n_plus_4(depth):
    with pytest.raises(ValueError, match="depth"):
        lightnets.create_model("densenet_bc", depth=depth)


@pytest.mark.parametrize("name", ["densenet121", "densenet_bc"])
@pytest.mark.parametrize("growth_rate", [0, -12, 1.5])
def test_densenet_rejects_bad_growth_rate(name, growth_rate):
    with pytest.raises(ValueError, match="growth_rate must be an integer >= 1"):
        lightnets.create_model(name, growth_rate=growth_rate)


def test_densenet_rejects_bad_compression_and_dropout():
    with pytest.raises(ValueError, match=r"compression .*\(0.0, 1.0\]"):
        lightnets.create_model("densenet_bc", compression=0)
    with pytest.raises(ValueError, match=r"dropout .*\[0.0, 1.0\)"):
        lightnets.create_model("densenet121", dropout=1.0)


def test_densenet_head_applies_relu_after_norm5():
    model = lightnets.create_model("densenet_bc", depth=40, growth_rate=4).eval()
    features = -torch.ones(1, model.num_features, 2, 2)  # all negative: the ReLU must zero them
    assert torch.equal(model.forward_head(features), model.classifier.bias.unsqueeze(0))


def test_dense_block_concatenates_every_layer_and_transition_halves():
    block = DenseBlock(3, 8, growth_rate=4)
    assert block(torch.randn(1, 8, 6, 6)).shape == (1, 8 + 3 * 4, 6, 6)
    assert isinstance(block.denselayer3, DenseLayer) and block.denselayer3.conv1.in_channels == 16
    assert Transition(20, 10)(torch.randn(1, 20, 6, 6)).shape == (1, 10, 3, 3)


def test_create_model_uses_the_builders_default_class_count():
    assert lightnets.create_model("densenet_bc").classifier.out_features == 10  # CIFAR-10
    assert lightnets.create_model("densenet121").classifier.out_features == 1000
