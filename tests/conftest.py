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
        "markers", "slow: a long test whose behaviour a faster sibling also checks (deselect "
        "with -m 'not slow')"
    )
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in Chromium with Playwright (deselect with -m 'not browser')"
    )
