import pytest
from torch import nn

import lightnets
from lightnets.models.resnet import TABLE_1, TABLE_1_FLOPS, BasicBlock, Bottleneck, ResNet


def test_resnet18_table1_1_8_gflops(profile_of):
    assert round(profile_of("resnet18").macs / 1e9, 1) == TABLE_1_FLOPS[18] == 1.8


def test_resnet50_table1_3_8_gflops_once_the_stride_moves_back_to_the_first_1x1(profile_of):
    """The paper strides the first 1×1 of conv3_1/conv4_1/conv5_1; torchvision (v1.5) strides the 3×3,
    so those three 1×1 convs run on a 4× larger map. Undoing that recovers Table 1's 3.8 GFLOPs."""
    cost = profile_of("resnet50")
    strided_1x1 = [r.macs for r in cost.by_layer
                   if r.name.endswith(("conv3_x.0.conv1.0", "conv4_x.0.conv1.0", "conv5_x.0.conv1.0"))]
    assert len(strided_1x1) == 3
    v1_macs = cost.macs - sum(strided_1x1) * 3 / 4
    assert round(cost.macs / 1e9, 1) == 4.1  # EfficientNet Table 2/3's ResNet-50 baseline
    assert v1_macs / 1e9 == pytest.approx(TABLE_1_FLOPS[50], rel=0.02)  # 3.86 vs 3.8 printed


@pytest.mark.parametrize("name, depth, block_type, repeats", [
    ("resnet18", 18, BasicBlock, [2, 2, 2, 2]),
    ("resnet50", 50, Bottleneck, [3, 4, 6, 3]),
])
def test_resnet_table1_stages_have_the_column_repeats(name, depth, block_type, repeats):
    model = lightnets.create_model(name)
    stages = [getattr(model.features, row.layer_name) for row in TABLE_1[1:]]
    assert [len(stage) for stage in stages] == repeats == [getattr(r, f"layer_{depth}").repeats for r in TABLE_1[1:]]
    assert all(isinstance(block, block_type) for stage in stages for block in stage)


def test_resnet50_bottleneck_widths_and_v1_5_stride_on_the_3x3():
    model = lightnets.create_model("resnet50")
    first = model.features.conv3_x[0]
    assert (first.conv1.out_channels, first.conv2.out_channels, first.conv3.out_channels) == (128, 128, 512)
    assert (first.conv1.stride, first.conv2.stride, first.downsample.stride) == (1, 2, 2)
    assert model.num_features == 2048


def test_resnet_projection_shortcut_only_where_the_shape_changes():
    """§3.3 option B: identity shortcuts, 1×1 projections where dimensions increase."""
    model = lightnets.create_model("resnet18")
    with_projection = [f"{stage}.{i}" for stage in ("conv2_x", "conv3_x", "conv4_x", "conv5_x")
                       for i, block in enumerate(getattr(model.features, stage)) if block.downsample is not None]
    assert with_projection == ["conv3_x.0", "conv4_x.0", "conv5_x.0"]


def test_resnet_state_dict_order_follows_torchvision():
    names = list(lightnets.create_model("resnet50").state_dict())
    block = [n.split("conv3_x.0.")[1] for n in names if "conv3_x.0." in n and n.endswith("weight")]
    # torchvision: conv1, bn1, conv2, bn2, conv3, bn3, downsample.0, downsample.1
    assert block == ["conv1.0.weight", "conv1.1.weight", "conv2.0.weight", "conv2.1.weight",
                     "conv3.0.weight", "conv3.1.weight", "downsample.0.weight", "downsample.1.weight"]
    assert names[-2:] == ["classifier.weight", "classifier.bias"]


def test_resnet_rejects_a_depth_not_in_table1():
    with pytest.raises(ValueError, match="depth must be one of"):
        ResNet(depth=20)


def test_resnet_init_follows_torchvision():
    model = lightnets.create_model("resnet18")
    bn = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert bool((bn.weight == 1).all()) and bool((bn.bias == 0).all())
    bound = 1 / 512 ** 0.5  # nn.Linear's default init, which torchvision leaves on its fc layer
    assert model.classifier.weight.abs().max() <= bound and model.classifier.weight.std() > bound / 3
