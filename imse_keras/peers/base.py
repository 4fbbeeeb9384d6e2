"""What every system in a comparison is: a 16 kHz mono waveform in, the same out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Peer", "PeerUnavailable", "fit_length"]


class PeerUnavailable(RuntimeError):
    """A peer cannot run here (its package is missing, its model file is absent, ...).

    The message is the one-line reason shown to the user.
    """


@dataclass
class Peer:
    """One enhancement system.

    Attributes:
        name: short label used in tables (``noisy``, ``noisereduce``, ...).
        enhance: ``[n] float32 at 16 kHz -> [n] float32 at 16 kHz`` (same length).
        size_bytes: size of the model on disk or in memory (weights), ``None``
            when the system has no learned model; ``0`` for the identity.
        params: number of parameters when known.
        macs_per_second: multiply-accumulates per second of audio when known.
        latency_ms: algorithmic latency (audio the system must see before its
            output for a sample is final), ``None`` for whole-file systems.
        note: how the system is run (rate, settings), for the table's footnotes.
    """

    name: str
    enhance: Callable[[np.ndarray], np.ndarray]
    size_bytes: int | None = None
    params: int | None = None
    note: str = ""
    macs_per_second: float | None = None
    latency_ms: float | None = None
    extra: dict = field(default_factory=dict)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1 or x.size == 0:
            raise ValueError(f"Expected a non-empty 1-D waveform. Received: shape={x.shape}")
        return fit_length(np.asarray(self.enhance(x), dtype=np.float32).reshape(-1), x.size)


def fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad ``y`` to ``n`` samples."""
    if len(y) >= n:
        return y[:n]
    return np.pad(y, (0, n - len(y)))
