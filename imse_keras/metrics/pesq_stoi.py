"""Thin wrappers over the reference PESQ (``pesq``) and STOI (``pystoi``) packages.

Both take the clean reference first and the signal under test second, as 1-D float
arrays (samples) at 16 kHz. These are the exact calls behind the reference scores in
``../shared/README.md``: ``pesq(16000, clean, x, 'wb')`` and
``pystoi.stoi(clean, x, 16000, extended=False)``.
"""

from __future__ import annotations

import numpy as np
import pesq as _pesq
import pystoi as _pystoi

from imse_keras.metrics._validate import as_signal, check_sample_rate_16k

__all__ = ["pesq_wb", "stoi"]


def _check_same_length(clean: np.ndarray, enhanced: np.ndarray) -> None:
    if clean.shape != enhanced.shape:
        raise ValueError(
            "`clean` and `enhanced` must have the same length; trim them first "
            "(imse_keras.metrics.score_pair does). "
            f"Received: len(clean)={clean.size}, len(enhanced)={enhanced.size}"
        )


def pesq_wb(clean, enhanced, sr: int = 16000) -> float:
    """Wide-band PESQ (ITU-T P.862.2 MOS-LQO, about 1.04 to 4.64).

    Args:
        clean: reference waveform, shape ``(samples,)``, float in [-1, 1].
        enhanced: waveform under test, same shape as ``clean``.
        sr: sample rate in Hz; must be 16000 (wide-band mode only exists at 16 kHz).

    Returns:
        The PESQ-WB score, or ``float('nan')`` when the reference contains no speech
        for PESQ's voice-activity detector (the library's ``NoUtterancesError``, e.g.
        a silent reference): such a file has no defined score, and ``summarize``
        skips NaNs when averaging.

    Raises:
        ValueError: ``sr`` is not 16000, the inputs are not equal-length 1-D float
            arrays, or they are shorter than the 0.25 s PESQ needs.
    """
    check_sample_rate_16k(sr)
    clean = as_signal(clean, "clean")
    enhanced = as_signal(enhanced, "enhanced")
    _check_same_length(clean, enhanced)
    if not np.any(clean):
        # An all-zero reference has no utterances; checking here also avoids the
        # library dividing by a zero peak when both inputs are silent.
        return float("nan")
    try:
        return float(_pesq.pesq(sr, clean, enhanced, "wb"))
    except _pesq.NoUtterancesError:
        return float("nan")
    except _pesq.BufferTooShortError as err:
        raise ValueError(
            f"PESQ needs at least 0.25 s of audio. Received: {clean.size} samples at {sr} Hz"
        ) from err


def stoi(clean, enhanced, sr: int = 16000, extended: bool = False) -> float:
    """Short-time objective intelligibility (Taal et al. 2011), via ``pystoi``.

    Args:
        clean: reference waveform, shape ``(samples,)``, float.
        enhanced: waveform under test, same shape as ``clean``.
        sr: sample rate in Hz; must be 16000 (pystoi resamples to 10 kHz itself).
        extended: ``True`` for ESTOI (Jensen & Taal 2016).

    Returns:
        STOI in about [0, 1] (ESTOI can be slightly negative). pystoi returns
        about 1e-5 and warns when fewer than 30 frames remain after its
        silent-frame removal (signals shorter than about 0.4 s of speech).

    Raises:
        ValueError: ``sr`` is not 16000 or the inputs are not equal-length 1-D
            float arrays.
    """
    check_sample_rate_16k(sr)
    clean = as_signal(clean, "clean")
    enhanced = as_signal(enhanced, "enhanced")
    _check_same_length(clean, enhanced)
    return float(_pystoi.stoi(clean, enhanced, sr, extended=extended))
