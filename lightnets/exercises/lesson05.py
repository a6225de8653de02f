"""Exercises for lesson 05, class activation maps."""
from __future__ import annotations

from lightnets.exercises._question import Question, choice, numeric


def _features_and_weights():
    import torch
    generator = torch.Generator().manual_seed(5)
    features = torch.rand(4, 3, 3, generator=generator, dtype=torch.float64)  # K = 4 maps, 3×3
    weight = torch.randn(3, 4, generator=generator, dtype=torch.float64)  # 3 classes × K
    bias = torch.randn(3, generator=generator, dtype=torch.float64)
    return features, weight, bias


def _raw_cam(target: int = 2):
    # Zhou et al. eq. (M_c(x, y) = Σ_k w_k^c f_k(x, y)): no bias, no ReLU before post-processing.
    features, weight, _ = _features_and_weights()
    return (weight[target][:, None, None] * features).sum(0)


def _check_cam(answer):
    import torch
    if not isinstance(answer, torch.Tensor):
        return f"expected a tensor, got {type(answer).__name__}"
    right = _raw_cam()
    if tuple(answer.shape) != tuple(right.shape):
        return (f"expected shape {tuple(right.shape)} (one value per position), "
                f"got {tuple(answer.shape)}")
    answer = answer.to(torch.float64)
    if torch.allclose(answer, right):
        return None
    features, weight, bias = _features_and_weights()
    if torch.allclose(answer, right + bias[2]):
        return "the bias b_c is the same at every position; CAM leaves it out"
    if torch.allclose(answer, right.clamp(min=0)):
        return "the ReLU belongs to the post-processing, not to the map M_c itself"
    if torch.allclose(answer, _raw_cam(0)) or torch.allclose(answer, _raw_cam(1)):
        return "that is another class's map: use the weights of class 2 (row 2 of the weight)"
    return "not Σ_k w_k^c · f_k"


q1 = Question(
    name="lesson05.q1",
    prompt="From `features` (K × 3 × 3) and the classifier's `weight` (classes × K) given by "
           "`exercises.lesson05.data()`, compute the raw CAM M_c of class 2 (a 3 × 3 tensor).",
    checker=_check_cam,
    hints=["M_c(x, y) = Σ_k w_k^c f_k(x, y).",
           "`(weight[2][:, None, None] * features).sum(0)` or `torch.einsum('k,khw->hw', ...)`"],
    solution_code=(
        'features, weight, bias = exercises.lesson05.data()\n'
        'answer = torch.einsum("k,khw->hw", weight[2], features)'
    ),
)


def data():
    """The tensors of q1: ``features`` (K, 3, 3), ``weight`` (3, K) and ``bias`` (3,)."""
    return _features_and_weights()


q2 = Question(
    name="lesson05.q2",
    prompt="Can `lightnets.cam.cam` explain a network whose head is Linear → ReLU → Linear after "
           "global average pooling? Answer True or False.",
    checker=choice(lambda: False, {
        True: "CAM needs the class score to be a weighted sum of the pooled maps; a ReLU between "
              "two linear layers breaks that, and lightnets refuses such a head (use Grad-CAM)"}),
    hints=["CAM rewrites y_c = Σ_k w_k^c · GAP(f_k) as GAP(Σ_k w_k^c f_k). What does that need?"],
    solution_code="answer = False",
)

q3 = Question(
    name="lesson05.q3",
    prompt="Does adding a constant to every class's bias b_c change the normalised CAM? Answer "
           "True or False.",
    checker=choice(lambda: False, {
        True: "the bias never enters M_c = Σ_k w_k^c f_k; it shifts the score, not the map"}),
    hints=["Write out M_c; where would b_c appear?"],
    solution_code="answer = False",
)


def _grid_cells(layer: str) -> int:
    import torch

    from lightnets import create_model

    model = create_model("efficientnet_lite0")
    stop = int(layer.split(".")[1]) + 1
    with torch.no_grad():
        maps = model.features[:stop](torch.zeros(1, 3, 224, 224))
    return maps.shape[-2] * maps.shape[-1]


q4 = Question(
    name="lesson05.q4",
    prompt="Predict, then check: Grad-CAM of efficientnet_lite0 at layer 'features.5' on a "
           "224-px photo. How many cells (h × w) does its map have before upsampling?",
    checker=numeric(lambda: _grid_cells("features.5"), mistakes=[
        (lambda: _grid_cells("features.8"), "that is the last layer's 7×7 grid (stride 32); "
         "features.5 comes before the last stride-2 stage, features.6"),
        (lambda: _grid_cells("features.3"), "28×28 is stride 8 (features.3); features.4 halves "
         "it again"),
        (lambda: 14, "that is the side of the grid; the question asks for h × w cells")]),
    hints=["Count the stride-2 layers up to features.5: the stem (features.0), then "
           "features.2, features.3 and features.4.",
           "`model.features[:6](torch.zeros(1, 3, 224, 224)).shape`"],
    solution_code="model = lightnets.create_model('efficientnet_lite0')\n"
    "maps = model.features[:6](torch.zeros(1, 3, 224, 224))\n"
    "answer = maps.shape[-2] * maps.shape[-1]",
)
