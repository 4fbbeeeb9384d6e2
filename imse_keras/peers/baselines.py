"""Baselines a user would otherwise pick, all offline: the unprocessed input,
spectral gating (``noisereduce``) and RNNoise (``pyrnnoise``).

Each factory returns a :class:`~imse_keras.peers.base.Peer` or raises
:class:`~imse_keras.peers.base.PeerUnavailable` with the pip extra to install.
"""

from __future__ import annotations

import os

import numpy as np
from scipy.signal import resample_poly

from imse_keras.peers.base import Peer, PeerUnavailable
from imse_keras.quality.extras import MissingExtraError, require

__all__ = ["EXTRA", "RNNOISE_DELAY_48K", "noisy_peer", "noisereduce_peer", "rnnoise_peer"]

#: The pip extra that installs the baseline packages.
EXTRA = "peers"

_SR = 16000
#: RNNoise's algorithmic delay at its native 48 kHz: 2 frames of 480 samples
#: (20 ms, 320 samples at 16 kHz), measured by cross-correlation (see tests).
RNNOISE_DELAY_48K = 960


def _require(module: str):
    try:
        return require(module, EXTRA)
    except MissingExtraError as err:
        raise PeerUnavailable(str(err)) from err


def noisy_peer() -> Peer:
    """The unprocessed input (the floor every system should beat)."""
    return Peer("noisy", lambda x: x, size_bytes=0, params=0, macs_per_second=0.0,
                latency_ms=0.0, note="identity")


def noisereduce_peer(stationary: bool = False) -> Peer:
    """Spectral gating with ``noisereduce.reduce_noise`` at its defaults."""
    nr = _require("noisereduce")

    def run(x: np.ndarray) -> np.ndarray:
        return nr.reduce_noise(y=x, sr=_SR, stationary=stationary).astype(np.float32)

    kind = "stationary" if stationary else "non-stationary"
    return Peer("noisereduce", run, size_bytes=None, params=0,
                note=f"spectral gating ({kind}), no learned model")


def rnnoise_peer() -> Peer:
    """RNNoise (Valin 2018) through ``pyrnnoise``'s bundled library.

    RNNoise only runs at 48 kHz on 480-sample frames of int16-scaled floats, so
    the 16 kHz input is resampled by 3 (polyphase), denoised frame by frame, its
    20 ms delay removed, and resampled back. ``RNNoise.denoise_wav`` is not used:
    it is broken with audiolab 0.5.2 (``Reader`` has no ``rate``).
    """
    rn = _require("pyrnnoise.rnnoise")
    frame = int(rn.FRAME_SIZE)
    lib_path = getattr(rn, "LIBRNNOISE", None)
    size = os.path.getsize(lib_path) if lib_path and os.path.isfile(lib_path) else None

    def run(x: np.ndarray) -> np.ndarray:
        x48 = resample_poly(x.astype(np.float64), 3, 1) * 32767.0
        n = x48.size
        # Pad so the delayed tail comes out too, then to whole frames.
        total = n + RNNOISE_DELAY_48K
        total += (-total) % frame
        buf = np.zeros(total, np.float32)
        buf[:n] = np.clip(x48, -32768.0, 32767.0)
        state = rn.create()
        try:
            import ctypes

            ptr_type = ctypes.POINTER(ctypes.c_float)
            for start in range(0, total, frame):
                chunk = np.ascontiguousarray(buf[start : start + frame])
                p = chunk.ctypes.data_as(ptr_type)
                rn.lib.rnnoise_process_frame(state, p, p)  # in place, float in int16 scale
                buf[start : start + frame] = chunk
        finally:
            rn.destroy(state)
        y48 = buf[RNNOISE_DELAY_48K : RNNOISE_DELAY_48K + n] / 32767.0
        return resample_poly(y48.astype(np.float64), 1, 3).astype(np.float32)

    return Peer("rnnoise", run, size_bytes=size, latency_ms=1000.0 * RNNOISE_DELAY_48K / 48000,
                note="pyrnnoise at 48 kHz (resampled x3), "
                "20 ms delay removed; size = librnnoise.so with its weights")
