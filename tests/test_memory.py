import torch
import lightnets
from lightnets.memory import inference_steps, largest_tensor_by_resolution, peak_memory


def test_mobilenet_v2_table3_v1_largest_tensor_is_1600k_at_112():
    # MobileNetV2 Table 3: MobileNetV1 must materialise 64 channels at 112x112, 1600K at 16 bits.
    table = largest_tensor_by_resolution(inference_steps(lightnets.create_model("mobilenet_v1")))
    assert table[112] == 64 * 112 * 112 * 2 == 1_605_632
    assert table[7] == 1024 * 7 * 7 * 2


def test_mobilenet_v2_sec5_1_streaming_blocks_shrinks_peak_memory():
    model = lightnets.create_model("mobilenet_v2")
    streamed = peak_memory(inference_steps(model, stream_blocks=True))
    naive = peak_memory(inference_steps(model, stream_blocks=False))
    v1 = peak_memory(inference_steps(lightnets.create_model("mobilenet_v1")))
    # the widest tensor of V2 (96 channels at 112x112) only exists when blocks are not streamed
    assert naive >= (96 * 112 * 112 + 24 * 56 * 56) * 2
    assert streamed == (32 + 16) * 112 * 112 * 2 < v1 < naive


def test_streaming_counts_each_inverted_residual_as_one_step():
    model = lightnets.create_model("mobilenet_v2")
    steps = inference_steps(model, stream_blocks=True)
    assert len(steps) == 1 + 17 + 1  # stem, 17 bottlenecks, last 1x1 conv (Table 2)


def test_a_shortcut_keeps_the_block_input_alive():
    model = lightnets.create_model("mobilenet_v2")
    steps = {s.name: s for s in inference_steps(model, stream_blocks=False)}
    depthwise = steps["features.3.block.1.0"]  # 24-channel block at 56x56 with a shortcut
    assert depthwise.live == (144 + 144 + 24) * 56 * 56


def test_nonlinearity_sizes_mobilenet_v2_first_activations_are_at_112():
    from lightnets.memory import nonlinearity_sizes

    rows = nonlinearity_sizes(lightnets.create_model("mobilenet_v2"))
    assert len(rows) == 1 + 1 * 1 + 16 * 2 + 1  # stem; t=1 block has one; 16 blocks have two; last conv
    assert rows[0].kind == "ReLU6" and rows[0].side == 112 and rows[0].values == 32 * 112 * 112
    assert rows[-1].values == 1280 * 7 * 7


def test_training_memory_counts_activations_not_batchnorm_state():
    # Training-mode BatchNorm bumps its num_batches_tracked counter in place: model state, not an
    # activation kept for backward, so tracking running statistics must not change what is kept
    # (the peak may differ: updating the running statistics makes temporaries).
    from torch import nn

    from lightnets.memory import training_activation_memory

    def block(track: bool):
        return nn.Sequential(nn.Conv2d(3, 8, 3, bias=False),
                             nn.BatchNorm2d(8, track_running_stats=track), nn.ReLU(),
                             nn.Conv2d(8, 4, 1))

    tracking = training_activation_memory(block(True), (2, 3, 16, 16))
    plain = training_activation_memory(block(False), (2, 3, 16, 16))
    assert tracking.kept == plain.kept >= 2 * 8 * 14 * 14 * 4  # at least the BN's input


def test_the_training_meta_pass_restores_the_mode_and_leaves_the_weights_alone():
    from lightnets._torch import meta_forward

    model = lightnets.create_model("mobilenet_v3_small", num_classes=3).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = meta_forward(model, (2, 3, 64, 64), training=True)
    assert out.device.type == "meta" and out.requires_grad and not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
