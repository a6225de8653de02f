"""Exercises for lesson 00, the tour of the zoo."""
from __future__ import annotations

import functools

from lightnets.exercises._question import Question, choice, numeric


def _mobilenet_v1_macs_millions(resolution: int) -> float:
    from lightnets import create_model, profile
    return profile(create_model("mobilenet_v1"), (1, 3, resolution, resolution)).macs / 1e6


def _last_conv_channels(width_mult: float) -> int:
    from lightnets import create_model
    return create_model("mobilenet_v2", width_mult=width_mult).num_features


def _largest_layer() -> str:
    from lightnets import create_model, profile
    rows = profile(create_model("mobilenet_v1")).by_layer
    return max(rows, key=lambda row: row.params).name


q1 = Question(
    name="lesson00.q1",
    prompt="How many channels does the last 1×1 convolution of mobilenet_v2 have at "
    "width_mult=0.5?",
    checker=numeric(
        lambda: _last_conv_channels(0.5),
        mistakes=[
            (
                lambda: 640,
                "MobileNetV2 never narrows its last convolution: the paper keeps "
                "1280 channels for width multipliers below 1 (it grows only above 1)",
            )
        ],
    ),
    hints=[
        "Build it: `create_model('mobilenet_v2', width_mult=0.5)` and look at `num_features`.",
        "Read `lightnets/models/mobilenet_v2.py`: the last layer uses max(1.0, width_mult).",
    ],
    solution_code="answer = create_model('mobilenet_v2', width_mult=0.5).num_features",
)

q2 = Question(
    name="lesson00.q2",
    prompt="MobileNetV1's Mult-Adds at 128 px (α = 1), in millions. Count them, then compare "
           "with the 128 px row of MobileNetV1's Table 7 (arXiv v1).",
    checker=numeric(
        lambda: _mobilenet_v1_macs_millions(128),
        rel_tol=1e-3,
        mistakes=[
            (
                lambda: _mobilenet_v1_macs_millions(224) * 128 / 224,
                "you scaled by ρ = 128/224 once; every convolution's cost is proportional to the "
                "number of output pixels, ρ²",
            )
        ],
    ),
    hints=["`profile(model, (1, 3, 128, 128)).macs` counts them.", "Divide by 1e6 for millions."],
    solution_code="answer = profile(create_model('mobilenet_v1'), (1, 3, 128, 128)).macs / 1e6",
)

q3 = Question(
    name="lesson00.q3",
    prompt="Which single layer of MobileNetV1 (at 224 px) has the most parameters? Give its name "
    "as `profile(...).by_layer` spells it.",
    checker=choice(
        _largest_layer,
        {
            "classifier.1": "close: the classifier has 1024·1000 + 1000 = 1,025,000 parameters, "
            "but the last pointwise convolution has 1024·1024 = 1,048,576"
        },
    ),
    hints=[
        "`max(profile(model).by_layer, key=lambda row: row.params)`",
        "It is not the fully connected layer.",
    ],
    solution_code="rows = profile(create_model('mobilenet_v1')).by_layer\n"
    "answer = max(rows, key=lambda row: row.params).name",
)


@functools.lru_cache(maxsize=1)
def _gray_chelsea_top1() -> tuple:
    # The photo's colours removed as the prompt says (the mean of the three channels), then the
    # pretrained Lite0's top-1 over 1000 classes, and the colour photo's, for the known mistake.
    from lightnets import create_model, data, imagenet

    model = create_model("efficientnet_lite0", pretrained=True)
    colour = data.photos(["chelsea"])[0].image
    gray = colour.mean(axis=2).round().astype("uint8")
    return (imagenet.predict(model, gray, k=1).labels[0],
            imagenet.predict(model, colour, k=1).labels[0])


def _check_gray_top1(answer):
    if not isinstance(answer, str):
        return f"expected a class name (a str, as imagenet.CLASSES spells it), got {answer!r}"
    gray, colour = _gray_chelsea_top1()
    given = " ".join(answer.lower().replace("_", " ").split())
    if given == gray.lower():
        return None
    if given == colour.lower():
        return (f"{colour!r} is the colour photo's top-1; the gray photo's differs: run "
                "predict on the gray photo")
    from lightnets.imagenet import CLASSES

    if given not in {c.lower() for c in CLASSES}:
        return f"{answer!r} is not one of the 1000 ImageNet classes (lightnets.imagenet.CLASSES)"
    return f"{answer!r} is a class, but not the gray photo's top-1"


q4 = Question(
    name="lesson00.q4",
    prompt="Predict, then check: make chelsea gray (the mean of its three channels, "
           "rounded to uint8) and ask the pretrained efficientnet_lite0 again. Which class is "
           "its top-1 now? (imagenet.predict repeats a gray photo into three equal channels.)",
    checker=_check_gray_top1,
    hints=["`gray = photo.image.mean(axis=2).round().astype('uint8')`",
           "`imagenet.predict(model, gray, k=1).labels[0]`"],
    solution_code="from lightnets import data, imagenet\n"
    "model = create_model('efficientnet_lite0', pretrained=True)\n"
    "gray = data.photos(['chelsea'])[0].image.mean(axis=2).round().astype('uint8')\n"
    "answer = imagenet.predict(model, gray, k=1).labels[0]",
)
