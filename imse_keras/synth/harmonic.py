"""A deterministic speech-like test signal that needs no speech synthesizer.

Harmonics of a gliding 120 +- 40 Hz fundamental with syllable-rate (3.3 Hz)
amplitude modulation, plus white noise at a given SNR. Used where eSpeak NG
may be absent (export tests, Android fixtures).
"""

from __future__ import annotations

import numpy as np

__all__ = ["harmonic_pair"]


def harmonic_pair(n: int, seed: int = 0, snr_db: float = 15.0,
                  sample_rate: int = 16000) -> tuple[np.ndarray, np.ndarray]:
    """``(clean, noisy)``, float32 ``[n]``: a harmonic "voice" and the same plus white noise.

    Args:
        n: samples.
        seed: seed of the noise (the voice is the same for every seed).
        snr_db: SNR of the noisy signal.
        sample_rate: Hz.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sample_rate
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    clean = 0.3 * voice * (0.55 + 0.45 * np.sin(2 * np.pi * 3.3 * t)) ** 2
    noise = rng.standard_normal(n)
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return clean.astype(np.float32), (clean + noise).astype(np.float32)
