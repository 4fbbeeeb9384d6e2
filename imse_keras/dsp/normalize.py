"""Per-utterance RMS normalisation, the first step of the IMSE front end.

Layout: a mono waveform ``x`` of shape ``[n_samples]``. The model sees
``x * norm`` (unit RMS); the enhanced waveform is divided by the same ``norm``
at the end, so the output level follows the input level.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rms_normalize", "rms_scale", "apply_scale", "remove_scale"]


def rms_scale(energy, n_samples):
    """The normalisation factor ``sqrt(n / energy)``; 1.0 where ``energy == 0``.

    Args:
        energy: ``sum(x ** 2)`` in float64, a number or an array (one per
            channel, for a file read block by block).
        n_samples: the number of samples the energy was summed over.

    Returns:
        A Python float for a scalar ``energy``, else a float64 array.
    """
    energy = np.asarray(energy, dtype=np.float64)
    with np.errstate(divide="ignore"):
        scale = np.where(energy > 0, np.sqrt(n_samples / energy), 1.0)
    return float(scale) if scale.ndim == 0 else scale


def apply_scale(x, scale) -> np.ndarray:
    """``x * scale`` computed in float64 and rounded once to float32."""
    return (np.asarray(x).astype(np.float64) * scale).astype(np.float32)


def remove_scale(y, scale) -> np.ndarray:
    """``y / scale`` computed in float64 and rounded once to float32."""
    return (np.asarray(y).astype(np.float64) / scale).astype(np.float32)


def rms_normalize(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale a waveform to unit RMS, as the official IMSE inference does.

    ``norm = sqrt(len(x) / sum(x ** 2))``, computed in float64 over the whole
    (1-D) signal. The official code computes it in float32 with torch; float64
    differs from that by a relative 1e-7 or so and does not lose precision on
    long files.

    Args:
        x: waveform, shape ``[n_samples]``, any real float or int dtype.
            Multi-channel audio must be mixed down (or split into channels) by
            the caller: one norm per utterance is what the model was trained on.

    Returns:
        ``(x * norm, norm)``: the scaled waveform as float32 ``[n_samples]`` and
        the factor as a Python float. Digital silence (all zeros) has no RMS
        to normalise; it is returned unchanged with ``norm = 1.0`` rather than
        dividing by zero.

    Raises:
        ValueError: if ``x`` is not 1-D, is empty, or holds NaN or inf.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(
            "rms_normalize expects a 1-D waveform [n_samples]. "
            f"Received: x.shape={x.shape}"
        )
    if x.size == 0:
        raise ValueError("rms_normalize received an empty waveform (0 samples).")
    x64 = x.astype(np.float64)
    if not np.all(np.isfinite(x64)):
        bad = int(np.count_nonzero(~np.isfinite(x64)))
        raise ValueError(
            f"rms_normalize received a waveform with {bad} non-finite "
            "sample(s) (NaN or inf); the RMS is undefined."
        )
    energy = float(np.dot(x64, x64))
    if energy == 0.0:
        return x64.astype(np.float32), 1.0
    if not np.isfinite(energy):
        # Only reachable for float64 input beyond ~1e154: the squares overflow.
        raise ValueError(
            "rms_normalize: the waveform's energy overflows float64 "
            f"(max |x| = {float(np.max(np.abs(x64))):.3g}); scale it down first."
        )
    norm = rms_scale(energy, x.size)
    return apply_scale(x64, norm), norm
