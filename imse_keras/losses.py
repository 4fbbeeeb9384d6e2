"""Generator losses of the official IMSE/MP-SENet recipe, in ``keras.ops``.

Tensor layout everywhere: magnitudes and phases ``[B, T, F]``, complex spectra
``[B, T, F, 2]`` (compressed real, imaginary), as produced by
:func:`imse_keras.model.build_model`.

Generator loss (SPEC section 3, without the metric term, which needs the
discriminator and is added by the trainer)::

    0.9 L_mag + 0.3 (L_IP + L_GD + L_IAF) + 0.1 L_com
"""

from __future__ import annotations

import math

from keras import ops

__all__ = [
    "LOSS_WEIGHTS",
    "anti_wrapping",
    "complex_loss",
    "first_difference",
    "generator_losses",
    "magnitude_loss",
    "phase_losses",
]

#: Official weights of the generator terms (``metric`` multiplies L_metric).
LOSS_WEIGHTS = {"mag": 0.9, "pha": 0.3, "com": 0.1, "metric": 0.05}

_TWO_PI = 2.0 * math.pi


def anti_wrapping(x):
    """``|x - 2 pi round(x / 2 pi)|``: distance of a phase error to 0 on the circle."""
    return ops.abs(x - ops.round(x / _TWO_PI) * _TWO_PI)


def first_difference(x, axis: int):
    """First difference with the official boundary, along ``axis``.

    The official code multiplies by a matrix with -1 on the diagonal and +1 on
    the superdiagonal, so ``y[0] = -x[0]`` and ``y[j] = x[j-1] - x[j]``.
    """
    x = ops.moveaxis(x, axis, -1)
    prev = ops.pad(x[..., :-1], [(0, 0)] * (len(x.shape) - 1) + [(1, 0)])
    return ops.moveaxis(prev - x, -1, axis)


def magnitude_loss(mag_true, mag_pred):
    """MSE of compressed magnitudes ``[B, T, F]``."""
    return ops.mean(ops.square(mag_true - mag_pred))


def complex_loss(com_true, com_pred):
    """2 x MSE of compressed complex spectra ``[B, T, F, 2]`` (official factor)."""
    return 2.0 * ops.mean(ops.square(com_true - com_pred))


def phase_losses(pha_true, pha_pred):
    """Anti-wrapping instantaneous-phase, group-delay and IAF losses.

    Args:
        pha_true, pha_pred: phases ``[B, T, F]``, radians.

    Returns:
        ``(ip, gd, iaf)`` scalars: IP on the phase error, GD on its first
        difference along frequency (axis 2), IAF along time (axis 1).
    """
    ip = ops.mean(anti_wrapping(pha_true - pha_pred))
    gd = ops.mean(anti_wrapping(first_difference(pha_true, 2) - first_difference(pha_pred, 2)))
    iaf = ops.mean(anti_wrapping(first_difference(pha_true, 1) - first_difference(pha_pred, 1)))
    return ip, gd, iaf


def generator_losses(mag_true, pha_true, com_true, mag_pred, pha_pred, com_pred) -> dict:
    """All generator terms and their weighted sum ``"loss"`` (no metric term)."""
    mag = magnitude_loss(mag_true, mag_pred)
    ip, gd, iaf = phase_losses(pha_true, pha_pred)
    com = complex_loss(com_true, com_pred)
    w = LOSS_WEIGHTS
    total = w["mag"] * mag + w["pha"] * (ip + gd + iaf) + w["com"] * com
    return {"loss": total, "mag": mag, "ip": ip, "gd": gd, "iaf": iaf, "com": com}
