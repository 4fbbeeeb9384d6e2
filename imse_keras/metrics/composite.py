"""Composite quality measures CSIG, CBAK, COVL and segmental SNR (Hu & Loizou 2008).

This reproduces ``compute_metrics.py`` of CMGAN / MP-SENet (a Python port of Loizou's
MATLAB ``composite.m``), the scorer behind published VoiceBank+DEMAND numbers, with the
per-frame loops replaced by array operations. Every quirk of that script that moves a
score is kept on purpose, so our numbers are comparable with published ones:

* Frames are 30 ms (480 samples at 16 kHz) with a 7.5 ms hop (75 % overlap), windowed
  by MATLAB's ``hanning`` (``0.5 (1 - cos(2 pi n / (N + 1)))``, n = 1..N). The frame
  count is ``(len - win) // hop``, one fewer than would fit.
* WSS divides the waveforms by 32768 (the script assumes PCM16 counts but is fed
  floats); this only moves the 1e-10 floor on band energies, but it moves it.
  The nearest-peak search keeps the original's one-band offset.
* LLR uses LPC order 10 below 10 kHz and 16 above (16 at 16 kHz) and is not clipped.
* WSS and LLR average the lowest 95 % of frame values (``round(0.95 n)`` frames,
  Python rounding); NaN frames sort last and so fall in the discarded 5 %.
* Segmental SNR averages all frames, each clipped to [-10, 35] dB.
* PESQ is wide-band PESQ; the three composites are clipped to [1, 5].

One deliberate difference: the script adds ``eps = 2.2e-16`` to both signals only
when their lengths differ; we always add it (inputs must already be equal length),
so a digitally silent frame gives a defined LLR instead of ``log(0 / 0)``. On the
vb_dev pairs this moves per-frame values by less than 1e-8.

Inputs everywhere are 1-D float waveforms (samples), clean reference first.
"""

from __future__ import annotations

import math

import numpy as np

from imse_keras.metrics._validate import as_signal, check_sample_rate_16k

__all__ = [
    "composite",
    "wss_frames",
    "llr_frames",
    "segmental_snr_frames",
    "frame_params",
]

#: Fraction of the smallest per-frame WSS / LLR values that are averaged.
_ALPHA = 0.95
#: Segmental SNR clipping range, dB.
_MIN_SNR, _MAX_SNR = -10.0, 35.0
#: WSS weighting constants suggested by Klatt (1982, p. 1280).
_KMAX, _KLOCMAX = 20.0, 1.0
#: The script's PCM16 scale, applied to the float inputs of WSS only.
_WSS_SCALE = 32768.0

# Critical-band filter centres and bandwidths in Hz (25 bands, Klatt 1982).
_CENT_FREQ = np.array([
    50.0000, 120.000, 190.000, 260.000, 330.000, 400.000, 470.000, 540.000, 617.372,
    703.378, 798.717, 904.128, 1020.38, 1148.30, 1288.72, 1442.54, 1610.70, 1794.16,
    1993.93, 2211.08, 2446.71, 2701.97, 2978.04, 3276.17, 3597.63,
])
_BANDWIDTH = np.array([
    70.0000, 70.0000, 70.0000, 70.0000, 70.0000, 70.0000, 70.0000, 77.3724, 86.0056,
    95.3398, 105.411, 116.256, 127.914, 140.423, 153.823, 168.154, 183.457, 199.776,
    217.153, 235.631, 255.255, 276.072, 298.126, 321.465, 346.136,
])


def frame_params(sr: int) -> tuple[int, int]:
    """``(window, hop)`` in samples: 30 ms rounded, and a quarter of it floored."""
    win = int(round(30 * sr / 1000))
    return win, win // 4


def _frames(x: np.ndarray, sr: int) -> np.ndarray:
    """Hanning-windowed frames, shape ``(frames, window)``."""
    win, hop = frame_params(sr)
    n_frames = max((x.size - win) // hop, 0)
    if n_frames == 0:
        return np.zeros((0, win))
    view = np.lib.stride_tricks.sliding_window_view(x, win)[::hop][:n_frames]
    window = 0.5 * (1.0 - np.cos(2.0 * np.pi * np.arange(1, win + 1) / (win + 1)))
    return view * window


def _check_pair(clean, enhanced) -> tuple[np.ndarray, np.ndarray]:
    clean = as_signal(clean, "clean")
    enhanced = as_signal(enhanced, "enhanced")
    if clean.shape != enhanced.shape:
        raise ValueError(
            "`clean` and `enhanced` must have the same length. "
            f"Received: len(clean)={clean.size}, len(enhanced)={enhanced.size}"
        )
    return clean, enhanced


def _check_sr(sr) -> None:
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"`sr` must be a positive integer (Hz). Received: sr={sr!r}")


def _critical_band_filters(sr: int, n_fft: int) -> np.ndarray:
    """Gaussian critical-band weights over the first ``n_fft // 2`` bins, ``(25, n_fft // 2)``.

    Every filter has the same area; weights under -30 dB are zeroed.
    """
    half = n_fft // 2
    max_freq = int(sr / 2)
    f0 = np.floor(_CENT_FREQ / max_freq * half)[:, None]
    bw = (_BANDWIDTH / max_freq * half)[:, None]
    norm = np.log(_BANDWIDTH[0]) - np.log(_BANDWIDTH)[:, None]
    j = np.arange(half)[None, :]
    filt = np.exp(-11.0 * np.square((j - f0) / bw) + norm)
    min_factor = math.exp(-30.0 / (2.0 * 2.303))
    return np.where(filt > min_factor, filt, 0.0)


def _nearest_peaks(energy: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Per band, the energy (dB) at the nearest spectral peak, ``(frames, bands - 1)``.

    Rising slope: walk right to the first non-rising band ``n`` and take band ``n - 1``;
    otherwise walk left to the last rising band ``n`` and take band ``n + 1``
    (the original search, including its offset).
    """
    n_slopes = slope.shape[1]
    idx = np.arange(n_slopes)
    rising = slope > 0
    # First index >= i whose slope is not rising (n_slopes if none).
    stop_right = np.where(~rising, idx, n_slopes)
    stop_right = np.minimum.accumulate(stop_right[:, ::-1], axis=1)[:, ::-1]
    # Last index <= i whose slope is rising (-1 if none).
    stop_left = np.where(rising, idx, -1)
    stop_left = np.maximum.accumulate(stop_left, axis=1)
    peak_band = np.where(rising, stop_right - 1, stop_left + 1)
    return np.take_along_axis(energy, peak_band, axis=1)


def wss_frames(clean, enhanced, sr: int = 16000) -> np.ndarray:
    """Per-frame weighted spectral slope distance (Klatt 1982), shape ``(frames,)``.

    Args:
        clean: reference waveform ``(samples,)``, float in [-1, 1].
        enhanced: waveform under test, same shape.
        sr: sample rate in Hz.
    """
    _check_sr(sr)
    clean, enhanced = _check_pair(clean, enhanced)
    win, _ = frame_params(sr)
    n_fft = int(2 ** math.ceil(math.log2(2 * win)))
    filters = _critical_band_filters(sr, n_fft)  # (25, n_fft // 2)
    n_bands = filters.shape[0]

    def band_db(x):
        spec = np.abs(np.fft.rfft(_frames(x / _WSS_SCALE, sr), n_fft, axis=1)) ** 2
        energy = spec[:, : n_fft // 2] @ filters.T  # (frames, 25)
        return 10.0 * np.log10(np.maximum(energy, 1e-10))

    weights = []
    slopes = []
    for energy in (band_db(clean), band_db(enhanced)):
        slope = np.diff(energy, axis=1)  # (frames, 24)
        peak = _nearest_peaks(energy, slope)
        low = energy[:, : n_bands - 1]
        w_max = _KMAX / (_KMAX + energy.max(axis=1, keepdims=True) - low)
        w_locmax = _KLOCMAX / (_KLOCMAX + peak - low)
        weights.append(w_max * w_locmax)
        slopes.append(slope)
    w = (weights[0] + weights[1]) / 2.0
    # Normalising by the weight sum is the script's addition to Klatt's measure.
    return np.sum(w * np.square(slopes[0] - slopes[1]), axis=1) / np.sum(w, axis=1)


def _autocorr(frames: np.ndarray, order: int) -> np.ndarray:
    """Autocorrelation lags 0..order of each frame, ``(frames, order + 1)``."""
    n = frames.shape[1]
    return np.stack(
        [np.einsum("ij,ij->i", frames[:, : n - k], frames[:, k:]) for k in range(order + 1)],
        axis=1,
    )


def _levinson(r: np.ndarray) -> np.ndarray:
    """LPC polynomials ``[1, -a_1, ..., -a_p]`` from autocorrelations ``(frames, p + 1)``."""
    order = r.shape[1] - 1
    a = np.zeros((r.shape[0], order))
    err = r[:, 0].copy()
    for i in range(order):
        acc = np.einsum("fj,fj->f", a[:, :i], r[:, i:0:-1])
        k = (r[:, i + 1] - acc) / err
        if i:
            a[:, :i] = a[:, :i] - k[:, None] * a[:, i - 1 :: -1]
        a[:, i] = k
        err = (1.0 - k * k) * err
    return np.concatenate([np.ones((r.shape[0], 1)), -a], axis=1)


def llr_frames(clean, enhanced, sr: int = 16000) -> np.ndarray:
    """Per-frame log-likelihood ratio of the LPC models, shape ``(frames,)``.

    ``log(a_e^T R_c a_e / a_c^T R_c a_c)``, with ``R_c`` the Toeplitz autocorrelation
    matrix of the clean frame and ``a_c``, ``a_e`` the LPC polynomials (order 10
    below 10 kHz, 16 otherwise). Values are not clipped. A frame that is all zeros
    in ``clean`` gives NaN (:func:`composite` adds eps to both signals first).

    Args:
        clean: reference waveform ``(samples,)``, float.
        enhanced: waveform under test, same shape.
        sr: sample rate in Hz.
    """
    _check_sr(sr)
    clean, enhanced = _check_pair(clean, enhanced)
    order = 10 if sr < 10000 else 16
    r_clean = _autocorr(_frames(clean, sr), order)
    r_enh = _autocorr(_frames(enhanced, sr), order)
    lag = np.abs(np.subtract.outer(np.arange(order + 1), np.arange(order + 1)))
    toeplitz = r_clean[:, lag]  # (frames, order + 1, order + 1)
    # Silent frames divide 0 by 0 here; they become NaN by design (see docstring).
    with np.errstate(divide="ignore", invalid="ignore"):
        a_clean = _levinson(r_clean)
        a_enh = _levinson(r_enh)
        num = np.einsum("fi,fij,fj->f", a_enh, toeplitz, a_enh)
        den = np.einsum("fi,fij,fj->f", a_clean, toeplitz, a_clean)
        return np.log(num / den)


def segmental_snr_frames(clean, enhanced, sr: int = 16000) -> np.ndarray:
    """Per-frame SNR in dB of windowed frames, clipped to [-10, 35], shape ``(frames,)``.

    Args:
        clean: reference waveform ``(samples,)``, float.
        enhanced: waveform under test, same shape.
        sr: sample rate in Hz.
    """
    _check_sr(sr)
    clean, enhanced = _check_pair(clean, enhanced)
    eps = np.spacing(1.0)
    c = _frames(clean, sr)
    e = _frames(enhanced, sr)
    signal = np.sum(np.square(c), axis=1)
    noise = np.sum(np.square(c - e), axis=1)
    snr = 10.0 * np.log10(signal / (noise + eps) + eps)
    return np.clip(snr, _MIN_SNR, _MAX_SNR)


def _trimmed_mean(values: np.ndarray) -> float:
    """Mean of the lowest ``round(0.95 n)`` values (NaNs sort last, as in the script)."""
    keep = round(values.size * _ALPHA)
    return float(np.mean(np.sort(values)[:keep]))


def composite(clean, enhanced, sr: int = 16000, pesq_score: float | None = None) -> dict:
    """CSIG, CBAK, COVL and segmental SNR of ``enhanced`` against ``clean``.

    CSIG = 3.093 - 1.029 LLR + 0.603 PESQ - 0.009 WSS,
    CBAK = 1.634 + 0.478 PESQ - 0.007 WSS + 0.063 segSNR,
    COVL = 1.594 + 0.805 PESQ - 0.512 LLR - 0.007 WSS, each clipped to [1, 5].

    Args:
        clean: reference waveform ``(samples,)``, float in [-1, 1], 16 kHz.
        enhanced: waveform under test, same shape.
        sr: sample rate in Hz; must be 16000 (the composites use wide-band PESQ).
        pesq_score: wide-band PESQ of the same pair if already computed (saves a
            PESQ run); ``None`` computes it.

    Returns:
        ``{"csig", "cbak", "covl", "ssnr", "llr", "wss", "pesq"}`` as floats; ``llr``
        and ``wss`` are the 95 %-trimmed means, ``ssnr`` the segmental SNR in dB.
        When PESQ is NaN (silent reference) the three composites are NaN too.

    Raises:
        ValueError: ``sr`` is not 16000, or the inputs are not equal-length 1-D float
            arrays of at least 600 samples (one 30 ms frame plus one hop).
    """
    check_sample_rate_16k(sr)
    clean, enhanced = _check_pair(clean, enhanced)
    win, hop = frame_params(sr)
    if clean.size < win + hop:
        raise ValueError(
            f"Signals must be at least {win + hop} samples long at {sr} Hz. "
            f"Received: {clean.size} samples"
        )
    if pesq_score is None:
        from imse_keras.metrics.pesq_stoi import pesq_wb

        pesq_score = pesq_wb(clean, enhanced, sr)
    pesq_score = float(pesq_score)

    eps = np.spacing(1.0)
    clean = clean + eps
    enhanced = enhanced + eps
    wss = _trimmed_mean(wss_frames(clean, enhanced, sr))
    llr = _trimmed_mean(llr_frames(clean, enhanced, sr))
    ssnr = float(np.mean(segmental_snr_frames(clean, enhanced, sr)))

    def clip(v):
        return float(np.clip(v, 1.0, 5.0))  # NaN passes through

    csig = clip(3.093 - 1.029 * llr + 0.603 * pesq_score - 0.009 * wss)
    cbak = clip(1.634 + 0.478 * pesq_score - 0.007 * wss + 0.063 * ssnr)
    covl = clip(1.594 + 0.805 * pesq_score - 0.512 * llr - 0.007 * wss)
    return {
        "csig": csig,
        "cbak": cbak,
        "covl": covl,
        "ssnr": ssnr,
        "llr": llr,
        "wss": wss,
        "pesq": pesq_score,
    }
