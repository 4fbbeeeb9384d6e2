"""imse-keras: the IMSE speech-enhancement network in Keras 3, with LiteRT export.

The names a user needs, imported lazily (``import imse_keras`` loads no
TensorFlow; the first use of ``IMSE`` or ``load_pretrained`` does):

```python
from imse_keras import IMSE, Enhancer

model = IMSE.from_preset("imse")          # a keras.Model, official weights
enhancer = Enhancer.from_preset("imse")   # waveform in, waveform out
```
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = [
    "IMSE",
    "Enhancer",
    "FrontEnd",
    "IMSEConfig",
    "PRESETS",
    "get_config",
    "load_pretrained",
    "__version__",
]

_LAZY = {
    "IMSE": "imse_keras.model",
    "Enhancer": "imse_keras.enhance",
    "FrontEnd": "imse_keras.frontend",
    "IMSEConfig": "imse_keras.config",
    "PRESETS": "imse_keras.config",
    "get_config": "imse_keras.config",
    "load_pretrained": "imse_keras.weights.load",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
