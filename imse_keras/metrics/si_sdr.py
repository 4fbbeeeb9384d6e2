"""Scale-invariant signal-to-distortion ratio (Le Roux et al., ICASSP 2019)."""

from __future__ import annotations

import numpy as np

from imse_keras.metrics._validate import as_signal

__all__ = ["si_sdr"]

#: Guards the divisions when a signal (or the residual) is all zeros.
_EPS = 1e-12


def si_sdr(reference, estimate) -> float:
    """SI-SDR of ``estimate`` against ``reference``, in dB.

    Both signals are made zero-mean, then the reference is scaled by the optimal
    ``alpha = <estimate, reference> / ||reference||^2`` and

        SI-SDR = 10 log10(||alpha * reference||^2 / ||alpha * reference - estimate||^2).

    Multiplying ``estimate`` by any non-zero factor leaves the score unchanged.

    Args:
        reference: clean waveform, shape ``(samples,)``, float.
        estimate: waveform under test, same shape.

    Returns:
        The score in dB. ``eps`` (1e-12) guards both divisions and the logarithm
        (as in asteroid's ``SingleSrcNegSDR``), so identical signals give a large
        finite value (about 10 log10(||s||^2 / eps)) and a silent reference or
        estimate gives -120 dB instead of NaN or an exception.

    Raises:
        ValueError: the inputs are not 1-D float arrays of the same length.
    """
    reference = as_signal(reference, "reference")
    estimate = as_signal(estimate, "estimate")
    if reference.shape != estimate.shape:
        raise ValueError(
            "`reference` and `estimate` must have the same length. "
            f"Received: len(reference)={reference.size}, len(estimate)={estimate.size}"
        )
    reference = reference - reference.mean()
    estimate = estimate - estimate.mean()
    alpha = np.dot(estimate, reference) / (np.dot(reference, reference) + _EPS)
    target = alpha * reference
    residual = target - estimate
    ratio = np.dot(target, target) / (np.dot(residual, residual) + _EPS)
    return float(10.0 * np.log10(ratio + _EPS))
