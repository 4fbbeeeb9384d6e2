"""Official checkpoints: safe reading, the registry, conversion and loading.

Only the light, TF-free modules are imported here; ``convert`` and ``load``
import Keras and are imported on first use (``imse_keras.weights.load_pretrained``).
"""

from imse_keras.weights.pretrained import (
    DEFAULT_CHECKPOINT,
    PRETRAINED,
    DownloadError,
    WeightsNotFoundError,
    resolve_checkpoint,
)
from imse_keras.weights.torch_checkpoint import CheckpointError, load_torch_state_dict

__all__ = [
    "CheckpointError",
    "DEFAULT_CHECKPOINT",
    "DownloadError",
    "PRETRAINED",
    "WeightMappingError",
    "WeightsNotFoundError",
    "load_model",
    "load_pretrained",
    "load_torch_state_dict",
    "load_torch_weights",
    "resolve_checkpoint",
]

_LAZY = {
    "load_model": "imse_keras.weights.load",
    "load_pretrained": "imse_keras.weights.load",
    "load_torch_weights": "imse_keras.weights.convert",
    "WeightMappingError": "imse_keras.weights.convert",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
