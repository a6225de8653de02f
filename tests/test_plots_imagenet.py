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


def test_photo_predictions_reads_at_its_size_with_titles():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_figures import overlaps

    fig, _ = plots.photo_predictions(torch.rand(1, 3, 8, 8), Prediction(
        ("tiger cat", "Egyptian cat", "tabby", "lynx", "window screen"),
        (0.41, 0.34, 0.17, 0.02, 0.0), (282, 285, 281, 287, 904)))
    assert not overlaps(fig)
    assert [ax.get_title() for ax in fig.axes] == ["what the network sees",
                                                   "its top 5 of 1000 classes"]
