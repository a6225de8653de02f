"""lightnets: lightweight CNNs from the papers, exactly, in code a learner can read."""
from lightnets.cost import latency, profile
from lightnets.deploy import deploy
from lightnets.registry import create_model, list_models
from lightnets.utils import load_torchvision_weights, seed_everything

__all__ = [
    "create_model",
    "list_models",
    "profile",
    "latency",
    "deploy",
    "load_torchvision_weights",
    "seed_everything",
]
__version__ = "0.1.0"
