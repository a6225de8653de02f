"""Exercises for lesson 12: from float to phone (graph runtimes, int8 codes, calibration)."""
from __future__ import annotations

from lightnets.exercises._question import Question, numeric


def _zero_point(low: float, high: float) -> int:
    # uint8 codes over [low, high]: scale = (high − low) / 255, real 0 ↦ the integer zero point.
    scale = (high - low) / 255
    return round(-low / scale)


def _relu6_rounding_error() -> float:
    # The largest rounding error of a uniform grid is half a step: scale / 2, scale = 6 / 255.
    return 6 / 255 / 2


def _depthwise_gain() -> float:
    import lightnets
    from lightnets import phone

    folded = lightnets.deploy(lightnets.create_model("efficientnet_lite0", pretrained=True))
    rows = [row for row in phone.conv_weight_errors(folded) if row[1] == "depthwise"]
    _, _, per_tensor, per_channel = max(rows, key=lambda row: row[2])
    return per_tensor / per_channel


# What the notebook has imported when its solution cells run (tests run the solutions in it too).
NOTEBOOK_CONTEXT = ("from lightnets import phone\n"
                    "from lightnets.quantize import quantize, dequantize")

q1 = Question(
    name="lesson12.q1",
    prompt="An activation was calibrated to the range [−2, 6] and is stored in uint8 codes "
           "(0…255, asymmetric). What is its zero point: the code that stands for the real 0?",
    checker=numeric(lambda: _zero_point(-2.0, 6.0), mistakes=[
        (lambda: 2 / (8 / 255), "codes are integers: round the zero point to the nearest code"),
        (lambda: 0, "that is a symmetric int8 scheme's zero point; uint8 over [−2, 6] must "
                    "spend some codes on the negative values"),
        (lambda: 128, "128 would centre a symmetric range; this range is not symmetric")]),
    hints=["scale = (high − low) / 255; the zero point is the code of the real number 0.",
           "zero_point = round(−low / scale) = round(2 / (8/255))."],
    solution_code="scale = (6 - (-2)) / 255\n"
                  "answer = round(2 / scale)",
)

q2 = Question(
    name="lesson12.q2",
    prompt="Predict, then check: ReLU6's output stored in uint8 over its fixed range [0, 6]. "
           "What is the largest error rounding can make, in the activation's own units?",
    checker=numeric(_relu6_rounding_error, rel_tol=0.01, mistakes=[
        (lambda: 6 / 255, "that is one whole step: rounding to the nearest code is off by at "
                          "most half a step"),
        (lambda: 6 / 256 / 2, "uint8 has 256 codes but 255 steps between 0 and 255")]),
    hints=["A uniform grid of step `scale` rounds any value by at most scale / 2.",
           "Measure it: y = torch.linspace(0, 6, 100_001); quantize with scale 6/255, zero point "
           "0, bounds (0, 255); dequantize; take the largest |error|."],
    solution_code="y = torch.linspace(0, 6, 100_001, dtype=torch.float64)\n"
                  "codes = quantize(y, 6 / 255, 0, bounds=(0, 255))\n"
                  "answer = (dequantize(codes, 6 / 255) - y).abs().max().item()",
)

q3 = Question(
    name="lesson12.q3",
    prompt="Take the depthwise convolution of the (BN-folded) pretrained Lite0 whose weight has "
           "the largest int8 error per tensor. By what factor does per-channel int8 shrink that "
           "layer's relative error?",
    checker=numeric(_depthwise_gain, rel_tol=0.01, mistakes=[
        (lambda: 1 / _depthwise_gain(), "that is per-channel over per-tensor: the question asks "
                                        "how many times smaller per-channel's error is")]),
    hints=["phone.conv_weight_errors(model) gives (name, kind, per_tensor, per_channel) rows; "
           "fold the BatchNorms first with lightnets.deploy(model).",
           "Keep the rows of kind 'depthwise', take the one with the largest per_tensor error, "
           "divide its per_tensor by its per_channel."],
    solution_code="model = lightnets.create_model('efficientnet_lite0', pretrained=True)\n"
                  "rows = phone.conv_weight_errors(lightnets.deploy(model))\n"
                  "worst = max((r for r in rows if r[1] == 'depthwise'), key=lambda r: r[2])\n"
                  "answer = worst[2] / worst[3]",
)
