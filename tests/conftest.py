import time

import pytest
import torch

import lightnets


@pytest.fixture(autouse=True)
def _repeatable():
    """Every test starts from the same random state, and runs single-threaded and small."""
    lightnets.seed_everything(0)
    yield


@pytest.fixture
def profile_of():
    """profile(create_model(name, **config)) at a square resolution."""

    def run(name, resolution=224, **config):
        return lightnets.profile(lightnets.create_model(name, **config), (1, 3, resolution, resolution))

    return run


# One thread: on a small shared machine, two threads per test process made training steps ~10x slower.
torch.set_num_threads(1)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "distributed: starts several processes with torchrun (deselect with -m 'not distributed')"
    )
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in Chromium with Playwright (deselect with -m 'not browser')"
    )
    config.addinivalue_line(
        "markers", "slow: seconds or more per test on a CPU; `pytest -m 'not slow'` is the fast loop, CI runs all"
    )


# The largest members of a family cost seconds per test (a forward and backward of EfficientNet-B7
# or DenseNet-201 on a CPU), and their small siblings exercise the same code: a test run on one of
# these is slow, so the fast loop checks each family through its smaller models.
SLOW_MODELS = {f"efficientnet_b{i}" for i in range(1, 8)} | {
    "densenet121", "densenet161", "densenet169", "densenet201", "resnet50"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(isinstance(value, str) and value in SLOW_MODELS for value in params.values()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def book_built(tmp_path_factory):
    """The book in English and in Korean (``python -m lightnets.book``), built once from a clean
    folder for tests/test_book.py and tests/test_korean.py: (output folder, English pages,
    seconds it took)."""
    from lightnets import book

    out = tmp_path_factory.mktemp("book") / "book"
    start = time.perf_counter()
    pages = book.build(out)
    return out, pages, time.perf_counter() - start
