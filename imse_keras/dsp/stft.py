"""STFT front end of IMSE in numpy, bit-for-bit the conventions of ``torch.stft``.

Layouts (``...`` is any number of leading batch axes):

- waveform ``x``: real ``[..., N]``
- spectrum ``X``: complex64 ``[..., F, T]`` with ``F = n_fft // 2 + 1`` bins and
  ``T = 1 + N // hop_length`` frames (frequency before time, as ``torch.stft``)
- compressed magnitude and phase ``mag_c``, ``pha``: float32 ``[..., F, T]``

This module is the numpy twin of ``torch.stft`` / ``torch.istft``, layout
included, on purpose: the official parity fixtures and external tools (the
ARM emulation kit in ``../shared/tools/arm-emu`` calls :func:`mag_pha_stft` and
:func:`mag_pha_istft`) speak torch's ``[F, T]``. The package itself works frames
first, ``[..., T, F]``: :class:`imse_keras.frontend.FrontEnd` is its one front
end and the one place that transposes.

The official model uses ``n_fft = win_length = 510``, ``hop_length = 100``, a
periodic Hann window, ``center=True`` with reflect padding, no normalisation,
and magnitude compression ``|X| ** 0.3``. Everything is computed in float64
and returned in single precision. These functions run outside the graph
(file I/O, tests, references); the in-graph front end lives with the model.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "hann_window",
    "stft",
    "istft",
    "mag_pha_stft",
    "mag_pha_istft",
]

# torch.istft refuses to divide by a window envelope below this (NOLA check).
_NOLA_EPS = 1e-11


def _check_sizes(n_fft: int, hop_length: int) -> None:
    if int(n_fft) != n_fft or n_fft < 2:
        raise ValueError(f"n_fft must be an integer >= 2. Received: n_fft={n_fft}")
    if int(hop_length) != hop_length or not 1 <= hop_length <= n_fft:
        raise ValueError(
            "hop_length must be an integer in [1, n_fft]. "
            f"Received: hop_length={hop_length}, n_fft={n_fft}"
        )


def _hann64(n: int) -> np.ndarray:
    # Periodic: the denominator is n, not n - 1, so that shifted copies at hops
    # dividing n sum to a constant (what torch.hann_window does by default).
    if n == 1:
        return np.ones(1)  # torch and scipy special-case it; the formula gives 0
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window, identical to ``torch.hann_window(n)``.

    Same as ``scipy.signal.get_window("hann", n, fftbins=True)``.

    Returns:
        float32 ``[n]``.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"Window length must be a positive integer. Received: n={n}")
    return _hann64(int(n)).astype(np.float32)


def _window64(n_fft: int, window: np.ndarray | None) -> np.ndarray:
    if window is None:
        return _hann64(n_fft)
    window = np.asarray(window, dtype=np.float64)
    if window.shape != (n_fft,):
        raise ValueError(f"window must have shape ({n_fft},). Received: {window.shape}")
    return window


def _stft64(x: np.ndarray, n_fft: int, hop_length: int,
            window: np.ndarray | None = None) -> np.ndarray:
    """complex128 ``[..., F, T]``; see :func:`stft`."""
    _check_sizes(n_fft, hop_length)
    x = np.asarray(x)
    if np.iscomplexobj(x):
        raise ValueError(f"stft expects a real signal. Received dtype {x.dtype}")
    if x.ndim < 1:
        raise ValueError("stft expects a signal of shape [..., N]. Received a scalar.")
    pad = n_fft // 2
    n = x.shape[-1]
    # numpy's "reflect" pads a too-short signal by bouncing back and forth;
    # torch refuses. Refusing keeps the two identical on every accepted input.
    if n <= pad:
        raise ValueError(
            f"stft needs at least n_fft // 2 + 1 = {pad + 1} samples for its "
            f"reflect padding of {pad} samples per side. Received: {n} samples "
            f"(shape {x.shape})."
        )
    x = x.astype(np.float64, copy=False)
    xp = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    # [..., T, n_fft] view, no copy until the window multiply.
    frames = np.lib.stride_tricks.sliding_window_view(xp, n_fft, axis=-1)[
        ..., ::hop_length, :
    ]
    spec = np.fft.rfft(frames * _window64(n_fft, window), axis=-1)  # [..., T, F]
    # A frame centred on a reflection point (the first; the last when
    # (n - 1) % hop == 0) is even about its centre, and the periodic window's
    # first sample is 0, so its spectrum is exactly real: X = (-1)^k |X|.
    # The FFT leaves ~1e-16 imaginary residue whose sign would make the phase
    # of negative bins +pi or -pi at random (a 2*pi jump at the model input).
    # Zeroing it makes the phase exact and deterministic (0 or +pi).
    if window is not None:  # a given window need not be symmetric
        return np.swapaxes(spec, -1, -2)
    spec[..., 0, :] = spec[..., 0, :].real
    if hop_length > 1 and (n - 1) % hop_length == 0:
        spec[..., -1, :] = spec[..., -1, :].real
    return np.swapaxes(spec, -1, -2)


def stft(x: np.ndarray, n_fft: int = 510, hop_length: int = 100,
         window: np.ndarray | None = None) -> np.ndarray:
    """Short-time Fourier transform, as ``torch.stft`` in the official code.

    Equivalent to ``torch.stft(x, n_fft, hop_length, win_length=n_fft,
    window=torch.hann_window(n_fft), center=True, pad_mode="reflect",
    normalized=False, onesided=True, return_complex=True)``: the signal is
    reflect-padded by ``n_fft // 2`` samples on each side, cut into frames
    every ``hop_length`` samples, windowed and real-FFT'd.

    Args:
        x: real ``[..., N]`` with ``N >= n_fft // 2 + 1``.
        n_fft: FFT size and window length.
        hop_length: frame advance in samples.
        window: ``[n_fft]`` analysis window; default the periodic Hann window.

    Returns:
        complex64 ``[..., F, T]``, ``F = n_fft // 2 + 1``, ``T = 1 + N // hop_length``.

    Raises:
        ValueError: for a signal too short to reflect-pad, or bad sizes.
    """
    return _stft64(x, n_fft, hop_length, window).astype(np.complex64)


def _overlap_add(frames: np.ndarray, hop_length: int) -> np.ndarray:
    """Sum ``[..., T, L]`` frames placed every ``hop_length`` samples.

    Returns ``[..., L + hop_length * (T - 1)]``. Each frame is cut into
    ``K = ceil(L / hop)`` hop-sized blocks; block ``k`` of frame ``t`` lands on
    output block ``t + k``. So one vectorised add per block offset (K = 6 for
    the official 510 / 100), never a loop over frames.
    """
    *lead, t, length = frames.shape
    k = -(-length // hop_length)
    blocks = np.zeros((*lead, t, k * hop_length), dtype=frames.dtype)
    blocks[..., :length] = frames
    blocks = blocks.reshape(*lead, t, k, hop_length)
    out = np.zeros((*lead, t + k - 1, hop_length), dtype=frames.dtype)
    for i in range(k):
        out[..., i : i + t, :] += blocks[..., :, i, :]
    out = out.reshape(*lead, (t + k - 1) * hop_length)
    return out[..., : length + hop_length * (t - 1)]


def _window_envelope(window_sq: np.ndarray, n_frames: int, hop_length: int) -> np.ndarray:
    """``_overlap_add`` of ``n_frames`` copies of one frame, without the copies.

    Returns ``[len(window_sq) + hop_length * (n_frames - 1)]``.
    """
    length = window_sq.shape[0]
    k = -(-length // hop_length)
    blocks = np.zeros(k * hop_length, dtype=window_sq.dtype)
    blocks[:length] = window_sq
    blocks = blocks.reshape(k, hop_length)
    out = np.zeros((n_frames + k - 1, hop_length), dtype=window_sq.dtype)
    for i in range(k):
        out[i : i + n_frames] += blocks[i]
    return out.reshape(-1)[: length + hop_length * (n_frames - 1)]


def istft(
    X: np.ndarray,
    n_fft: int = 510,
    hop_length: int = 100,
    length: int | None = None,
    window: np.ndarray | None = None,
) -> np.ndarray:
    """Inverse STFT, as ``torch.istft`` with a periodic Hann window, ``center=True``.

    Each frame is inverse real-FFT'd, windowed and overlap-added; the sum is
    divided by the overlap-added squared window (the least-squares inverse of
    :func:`stft`), and the ``n_fft // 2`` samples of centre padding are cut
    from the start.

    Args:
        X: complex ``[..., F, T]`` with ``F = n_fft // 2 + 1``. The imaginary
            parts of the DC and Nyquist bins are ignored, as by ``irfft``.
        n_fft: FFT size and window length.
        hop_length: frame advance in samples.
        length: samples to return. ``None`` gives ``hop_length * (T - 1)``
            (for even ``n_fft``), which is the original length whenever it was
            a multiple of ``hop_length``. A longer ``length`` is zero-padded at
            the end, as torch does.
        window: ``[n_fft]`` synthesis window, the one :func:`stft` used;
            default the periodic Hann window.

    Returns:
        float32 ``[..., length]``.

    Raises:
        ValueError: on a wrong number of bins, or where the window envelope is
            too small to divide by (NOLA violated; torch raises there too).
    """
    _check_sizes(n_fft, hop_length)
    X = np.asarray(X)
    n_freqs = n_fft // 2 + 1
    if X.ndim < 2 or X.shape[-2] != n_freqs:
        raise ValueError(
            f"istft expects a spectrum [..., F={n_freqs}, T] for n_fft={n_fft}. "
            f"Received: shape {X.shape}"
        )
    n_frames = X.shape[-1]
    if n_frames < 1:
        raise ValueError("istft received a spectrum with 0 frames.")
    if length is not None and (int(length) != length or length < 0):
        raise ValueError(f"length must be a non-negative integer. Received: length={length}")

    window = _window64(n_fft, window)
    frames = np.fft.irfft(np.swapaxes(X.astype(np.complex128), -1, -2), n=n_fft, axis=-1)
    y = _overlap_add(frames * window, hop_length)  # [..., n_fft + hop * (T - 1)]
    envelope = _window_envelope(window**2, n_frames, hop_length)

    full = y.shape[-1]
    start = n_fft // 2
    end = full - n_fft // 2 if length is None else start + int(length)
    stop = min(end, full)
    y = y[..., start:stop]
    envelope = envelope[start:stop]
    if envelope.size and envelope.min() < _NOLA_EPS:
        raise ValueError(
            "istft: the squared-window envelope vanishes inside the output "
            f"(min {envelope.min():.3g}), so the STFT is not invertible with "
            f"n_fft={n_fft}, hop_length={hop_length} (NOLA condition)."
        )
    y = y / envelope
    if end > stop:
        y = np.concatenate([y, np.zeros((*y.shape[:-1], end - stop))], axis=-1)
    return y.astype(np.float32)


def mag_pha_stft(
    x: np.ndarray,
    n_fft: int = 510,
    hop_length: int = 100,
    compress_factor: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Compressed magnitude and phase, the two inputs of the IMSE network.

    ``mag_c = |X| ** compress_factor`` and ``pha = angle(X)`` in ``(-pi, pi]``,
    with ``X = stft(x)``. As in the official code there is no epsilon: an
    all-zero bin has ``mag_c = 0`` and ``pha = 0``.

    Args:
        x: real waveform ``[..., N]`` (normally RMS-normalised first).

    Returns:
        ``(mag_c, pha)``, each float32 ``[..., F, T]``.
    """
    if not compress_factor > 0:
        raise ValueError(
            f"compress_factor must be > 0. Received: compress_factor={compress_factor}"
        )
    spec = _stft64(x, n_fft, hop_length)
    mag_c = np.abs(spec) ** compress_factor
    return mag_c.astype(np.float32), np.angle(spec).astype(np.float32)


def mag_pha_istft(
    mag_c: np.ndarray,
    pha: np.ndarray,
    n_fft: int = 510,
    hop_length: int = 100,
    compress_factor: float = 0.3,
    length: int | None = None,
) -> np.ndarray:
    """Waveform from compressed magnitude and phase; inverse of :func:`mag_pha_stft`.

    ``|X| = mag_c ** (1 / compress_factor)``, ``X = |X| cos(pha) + j |X| sin(pha)``,
    then :func:`istft`.

    Args:
        mag_c: float ``[..., F, T]``, non-negative.
        pha: float ``[..., F, T]``, radians (any range).
        length: see :func:`istft`.

    Returns:
        float32 ``[..., length]``.

    Raises:
        ValueError: on mismatched shapes or a negative magnitude, whose
            fractional power would be NaN.
    """
    if not compress_factor > 0:
        raise ValueError(
            f"compress_factor must be > 0. Received: compress_factor={compress_factor}"
        )
    mag_c = np.asarray(mag_c, dtype=np.float64)
    pha = np.asarray(pha, dtype=np.float64)
    if mag_c.shape != pha.shape:
        raise ValueError(
            "mag_c and pha must have the same shape [..., F, T]. "
            f"Received: mag_c.shape={mag_c.shape}, pha.shape={pha.shape}"
        )
    if np.any(mag_c < 0):
        raise ValueError(
            f"mag_c must be non-negative. Received a minimum of {mag_c.min():.3g}."
        )
    mag = mag_c ** (1.0 / compress_factor)
    spec = mag * np.cos(pha) + 1j * (mag * np.sin(pha))
    return istft(spec, n_fft=n_fft, hop_length=hop_length, length=length)
