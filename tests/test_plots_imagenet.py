"""lightnets.plots.imagenet: the figure returns the predictions it drew."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from lightnets import plots  # noqa: E402
from lightnets.imagenet import Prediction  # noqa: E402


def _prediction():
    return Prediction(("espresso", "cup"), (0.95, 0.02), (967, 968))


def test_photo_predictions_returns_labels_and_probabilities_in_rank_order():
    fig, data = plots.photo_predictions(torch.rand(2, 3, 8, 8), [_prediction(), _prediction()],
                                        titles=["a", "b"])
    assert data == {"labels": [["espresso", "cup"]] * 2, "probabilities": [[0.95, 0.02]] * 2}
    assert len(fig.axes) == 4
    bar_texts = [t.get_text() for t in fig.axes[1].texts]
    assert bar_texts == ["0.95", "0.02"]


def test_photo_predictions_takes_one_prediction_alone():
    _, data = plots.photo_predictions(torch.rand(1, 3, 8, 8), _prediction())
    assert data["labels"] == [["espresso", "cup"]]


def test_photo_predictions_refuses_unmatched_pictures():
    with pytest.raises(ValueError, match="one to one"):
        plots.photo_predictions(torch.rand(2, 3, 8, 8), [_prediction()])
    with pytest.raises(ValueError, match="titles"):
        plots.photo_predictions(torch.rand(1, 3, 8, 8), [_prediction()], titles=["a", "b"])
