"""Noise for demo and training data: synthetic colours, babble, hum, clicks, files.

Every generator has the signature ``(num_samples, sample_rate=16000, rng=None,
**options) -> float32 [num_samples]`` and returns noise scaled to unit RMS,
so that :func:`imse_keras.synth.mix.mix_at_snr` alone sets the level. ``rng``
is a ``numpy.random.Generator`` (or a seed for one); the same generator state
gives the same noise.

Spectral tilts, as power per octave: white 0 dB, pink -3 dB (1/f), brown
-6 dB (1/f^2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

from imse_keras.synth.speech import SENTENCES, VOICES, synthesize

__all__ = [
    "NOISE_TYPES",
    "babble",
    "brown",
    "clicks",
    "fit_length",
    "hum",
    "load_noise",
    "make_noise",
    "pink",
    "white",
]

RngLike = np.random.Generator | int | None


def _rng(rng: RngLike) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _check_length(num_samples, sample_rate) -> tuple[int, int]:
    if isinstance(num_samples, bool) or int(num_samples) != num_samples or num_samples < 1:
        raise ValueError(
            f"num_samples must be a positive integer. Received: num_samples={num_samples!r}"
        )
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
        raise ValueError(
            f"sample_rate must be a positive integer. Received: sample_rate={sample_rate!r}"
        )
    return int(num_samples), int(sample_rate)


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    if not rms > 0:
        raise ValueError("cannot scale silent noise to unit RMS")
    return (x / rms).astype(np.float32)


def fit_length(x: np.ndarray, num_samples: int, rng: RngLike = None) -> np.ndarray:
    """Crop or loop ``x`` to ``num_samples``, starting at a random offset.

    A longer ``x`` gives the window ``x[o : o + num_samples]``; a shorter one
    is read cyclically from ``o`` (so it repeats, with a seam at each wrap).
    ``rng=None`` uses offset 0.

    Args:
        x: ``[n]``, ``n >= 1``.
        num_samples: output length.
        rng: Generator or seed for the offset.

    Returns:
        ``[num_samples]``, same dtype as ``x``.
    """
    x = np.asarray(x)
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"fit_length expects a non-empty [n] array. Received: shape {x.shape}")
    num_samples, _ = _check_length(num_samples, 1)
    n = x.shape[0]
    if n >= num_samples:
        offset = 0 if rng is None else int(_rng(rng).integers(0, n - num_samples + 1))
        return x[offset : offset + num_samples].copy()
    offset = 0 if rng is None else int(_rng(rng).integers(0, n))
    return np.resize(np.roll(x, -offset), num_samples)


def white(num_samples: int, sample_rate: int = 16000, rng: RngLike = None) -> np.ndarray:
    """Gaussian white noise: flat power spectrum."""
    num_samples, _ = _check_length(num_samples, sample_rate)
    return _unit_rms(_rng(rng).standard_normal(num_samples))


def pink(num_samples: int, sample_rate: int = 16000, rng: RngLike = None) -> np.ndarray:
    """Pink (1/f) noise: white noise whose spectrum is shaped by 1/sqrt(f).

    The shaping is one FFT over the whole signal, so the noise is exactly 1/f
    down to the lowest bin (DC is removed) and wraps around seamlessly.
    """
    num_samples, _ = _check_length(num_samples, sample_rate)
    w = _rng(rng).standard_normal(num_samples)
    if num_samples < 2:  # only a DC bin: nothing to shape
        return _unit_rms(w)
    spectrum = np.fft.rfft(w)
    k = np.arange(spectrum.shape[0], dtype=np.float64)
    gain = np.zeros_like(k)
    gain[1:] = 1.0 / np.sqrt(k[1:])  # amplitude ~ f^-1/2, power ~ 1/f
    return _unit_rms(np.fft.irfft(spectrum * gain, n=num_samples))


# Brown noise: corner of the leaky integrator and of the drift high-pass, Hz.
_BROWN_LEAK_HZ = 2.0
_BROWN_HIGHPASS_HZ = 20.0


def brown(num_samples: int, sample_rate: int = 16000, rng: RngLike = None) -> np.ndarray:
    """Brown (1/f^2) noise: leaky-integrated white noise, high-passed.

    The integrator leaks with a 2 Hz corner and a 2nd-order 20 Hz Butterworth
    high-pass removes the remaining slow drift, so the spectrum falls by
    6 dB/octave from about 20 Hz up to a few kHz (it flattens slightly
    towards Nyquist, where the discrete integrator departs from 1/f^2). Half
    a second of extra noise is generated and dropped so that the filters have
    settled.
    """
    num_samples, sample_rate = _check_length(num_samples, sample_rate)
    warmup = sample_rate // 2
    w = _rng(rng).standard_normal(num_samples + warmup)
    leak = np.exp(-2.0 * np.pi * _BROWN_LEAK_HZ / sample_rate)
    x = lfilter([1.0], [1.0, -leak], w)
    if _BROWN_HIGHPASS_HZ < sample_rate / 2:
        x = sosfilt(butter(2, _BROWN_HIGHPASS_HZ, "highpass", fs=sample_rate, output="sos"), x)
    return _unit_rms(x[warmup:])


def babble(
    num_samples: int,
    sample_rate: int = 16000,
    rng: RngLike = None,
    n_talkers: int = 6,
    sentences: Sequence[str] = SENTENCES,
    voices: Sequence[str] = VOICES,
) -> np.ndarray:
    """Several synthetic talkers at once (eSpeak NG), like a crowded room.

    Each talker has a random voice from ``voices``, speaking rate (140-190
    wpm) and pitch (30-70), and reads random ``sentences`` separated by short
    random pauses (0.05-0.4 s) until the stream is long enough; a random
    window of that stream is taken. Talkers are scaled to equal RMS (over
    their whole stream) before summing.

    Raises:
        SynthesisError: eSpeak NG is not available (there is no fallback).
    """
    num_samples, sample_rate = _check_length(num_samples, sample_rate)
    if isinstance(n_talkers, bool) or int(n_talkers) != n_talkers or n_talkers < 1:
        raise ValueError(f"n_talkers must be a positive integer. Received: n_talkers={n_talkers!r}")
    if not sentences or not voices:
        raise ValueError("babble needs at least one sentence and one voice")
    rng = _rng(rng)
    total = np.zeros(num_samples, np.float64)
    for _ in range(int(n_talkers)):
        voice = voices[int(rng.integers(len(voices)))]
        rate = int(rng.integers(140, 191))
        pitch = int(rng.integers(30, 71))
        # Random lead-in silence (up to 1 s) so talkers do not start in step.
        parts = [np.zeros(int(rng.uniform(0.0, 1.0) * sample_rate), np.float32)]
        length = parts[0].shape[0]
        while length < num_samples + sample_rate:
            text = sentences[int(rng.integers(len(sentences)))]
            speech = synthesize(text, voice=voice, rate=rate, pitch=pitch, sample_rate=sample_rate)
            pause = np.zeros(int(rng.uniform(0.05, 0.4) * sample_rate), np.float32)
            parts += [speech, pause]
            length += speech.shape[0] + pause.shape[0]
        # Scaled by the whole stream's RMS: a short window may fall in a pause.
        stream = _unit_rms(np.concatenate(parts))
        total += fit_length(stream, num_samples, rng)
    return _unit_rms(total)


def hum(
    num_samples: int,
    sample_rate: int = 16000,
    rng: RngLike = None,
    mains_hz: float | None = None,
) -> np.ndarray:
    """Mains hum: a 50 or 60 Hz fundamental, harmonics, and a faint noise floor.

    The fundamental is the strongest component; up to 7 harmonics below
    Nyquist follow with random amplitudes falling roughly as 1/k and random
    phases. White noise 35 dB below the hum is added.

    Args:
        mains_hz: fundamental, Hz; ``None`` picks 50 or 60 at random.
    """
    num_samples, sample_rate = _check_length(num_samples, sample_rate)
    rng = _rng(rng)
    if mains_hz is None:
        mains_hz = float(rng.choice([50.0, 60.0]))
    if not 0 < mains_hz < sample_rate / 2:
        raise ValueError(
            f"mains_hz must be in (0, sample_rate / 2). Received: mains_hz={mains_hz!r}"
        )
    t = np.arange(num_samples) / sample_rate
    x = np.zeros(num_samples)
    for k in range(1, 9):
        if k * mains_hz >= sample_rate / 2:
            break
        amp = 1.0 if k == 1 else rng.uniform(0.2, 0.8) / k
        x += amp * np.sin(2.0 * np.pi * k * mains_hz * t + rng.uniform(0.0, 2.0 * np.pi))
    x = _unit_rms(x) + 10.0 ** (-35.0 / 20.0) * rng.standard_normal(num_samples)
    return _unit_rms(x)


def clicks(
    num_samples: int,
    sample_rate: int = 16000,
    rng: RngLike = None,
    rate_hz: float | None = None,
) -> np.ndarray:
    """Sparse clicks and crackles on a low noise floor.

    Events arrive as a Poisson process; each is either a single-sample
    impulse or a short burst (1-10 ms) of exponentially decaying noise, with
    a random sign and amplitude. The floor is white noise 30 dB below the
    loudest possible event; at unit RMS the peaks reach a few tens, so a
    mixture of speech and clicks is dominated by the clicks' peaks when it
    is peak-normalised.

    Args:
        rate_hz: mean events per second; ``None`` picks 4-16 at random.
    """
    num_samples, sample_rate = _check_length(num_samples, sample_rate)
    rng = _rng(rng)
    if rate_hz is None:
        rate_hz = float(rng.uniform(4.0, 16.0))
    if not rate_hz >= 0:
        raise ValueError(f"rate_hz must be >= 0. Received: rate_hz={rate_hz!r}")
    x = 0.03 * rng.standard_normal(num_samples)
    n_events = int(rng.poisson(rate_hz * num_samples / sample_rate))
    for start in rng.integers(0, num_samples, size=n_events):
        amp = rng.uniform(0.3, 1.0) * rng.choice([-1.0, 1.0])
        if rng.random() < 0.5:
            x[start] += amp
            continue
        length = max(int(rng.uniform(0.001, 0.010) * sample_rate), 1)
        decay = np.exp(-np.arange(length) / (length / 5.0))
        burst = amp * decay * rng.standard_normal(length)
        stop = min(start + length, num_samples)
        x[start:stop] += burst[: stop - start]
    return _unit_rms(x)


#: Noise kinds by name, for :func:`make_noise` and the CLI.
NOISE_TYPES: dict[str, Callable[..., np.ndarray]] = {
    "white": white,
    "pink": pink,
    "brown": brown,
    "babble": babble,
    "hum": hum,
    "clicks": clicks,
}


def make_noise(
    kind: str,
    num_samples: int,
    sample_rate: int = 16000,
    rng: RngLike = None,
    **options,
) -> np.ndarray:
    """Noise of a kind named in :data:`NOISE_TYPES`, unit RMS.

    ``options`` go to the generator (e.g. ``n_talkers=`` for babble,
    ``mains_hz=`` for hum).
    """
    try:
        generator = NOISE_TYPES[kind]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_TYPES)}"
        ) from None
    return generator(num_samples, sample_rate, rng, **options)


def load_noise(
    path: str | os.PathLike,
    num_samples: int,
    sample_rate: int = 16000,
    rng: RngLike = None,
) -> np.ndarray:
    """Noise from a recording: mixed to mono, resampled, cropped or looped.

    The channels are averaged, the rate is converted with soxr if it differs,
    and :func:`fit_length` takes a random window (or loops a short file).
    The result is scaled to unit RMS like the synthetic kinds.

    Raises:
        AudioError: the file cannot be read, or the chosen window is silent.
    """
    from imse_keras.audio_io import AudioError, read_audio, resample

    num_samples, sample_rate = _check_length(num_samples, sample_rate)
    audio = read_audio(path)
    x = audio.samples.mean(axis=1, dtype=np.float64).astype(np.float32)
    x = resample(x, audio.sample_rate, sample_rate)
    if x.shape[0] == 0:
        raise AudioError(path, "too short to resample to the requested rate")
    x = fit_length(x, num_samples, rng)
    if not np.any(x):
        raise AudioError(path, "the noise is silent (all zeros) where it was read")
    return _unit_rms(x)
