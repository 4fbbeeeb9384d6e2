"""Input checks shared by the metric modules (private)."""

from __future__ import annotations

import numpy as np

__all__ = ["as_signal", "check_sample_rate_16k"]


def as_signal(x, name: str) -> np.ndarray:
    """Return ``x`` as a finite 1-D float64 array, or raise ``ValueError``.

    Integer arrays are rejected rather than rescaled: the composite measures assume
    floats in [-1, 1] (see :mod:`imse_keras.metrics.composite`), and silently
    treating PCM16 counts as floats would shift their energy floors.
    """
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(
            f"`{name}` must be a 1-D waveform (mono, samples). Received: {name}.shape={arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"`{name}` must be a float array in [-1, 1] (e.g. soundfile.read(..., dtype='float64')). "
            f"Received: {name}.dtype={arr.dtype}"
        )
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or Inf values.")
    return arr


def check_sample_rate_16k(sr) -> None:
    """Raise ``ValueError`` unless ``sr`` is 16000 (wide-band PESQ needs 16 kHz)."""
    if sr != 16000:
        raise ValueError(
            "Only 16 kHz audio is supported (wide-band PESQ, P.862.2). "
            f"Resample to 16000 Hz first. Received: sr={sr}"
        )
