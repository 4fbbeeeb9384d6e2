"""Mixing speech and noise at a set SNR, and writing clean/noisy example pairs.

**SNR convention.** :func:`mix_at_snr` measures the power of the *whole*
clean signal, pauses included (as MS-SNSD and most simple mixers do), not the
power of active speech only. Synthetic utterances here are trimmed to at most
0.1 s of silence at each end, so the two differ by well under 1 dB for them;
for clean signals with long pauses the active-speech SNR is higher than the
nominal one.

Layouts: waveforms are float32 ``[n_samples]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imse_keras.synth.noise import (
    NOISE_TYPES,
    RngLike,
    babble,
    fit_length,
    load_noise,
    make_noise,
)
from imse_keras.synth.speech import SENTENCES, VOICES, synthesize

__all__ = [
    "make_example",
    "make_pair",
    "mix_at_snr",
    "normalize_pair",
    "peak_normalize",
]


def _as_signal(name: str, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1 or x.shape[0] == 0 or x.dtype.kind not in "fiu":
        raise ValueError(
            f"{name} must be a non-empty real [n_samples] array. Received: shape {x.shape}, "
            f"dtype {x.dtype}"
        )
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def mix_at_snr(
    clean: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    rng: RngLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Add ``noise`` to ``clean`` so that their power ratio is ``snr_db``.

    The noise is first cropped or looped to the clean length from a random
    offset (:func:`~imse_keras.synth.noise.fit_length`; offset 0 when ``rng``
    is None), then scaled so that
    ``10 log10(sum(clean^2) / sum(scaled_noise^2)) == snr_db`` over the whole
    signal (see the module docstring).

    Args:
        clean: ``[n]``, not all zeros.
        noise: ``[m]``, any length ``m >= 1``, not all zeros where it is read.
        snr_db: target SNR, dB.
        rng: Generator or seed for the noise offset.

    Returns:
        ``(noisy, scaled_noise)``, both float32 ``[n]``, with
        ``noisy == clean + scaled_noise``.

    Raises:
        ValueError: a silent clean signal or noise window (the SNR would be
            undefined), non-finite values, or a non-finite ``snr_db``.
    """
    clean = _as_signal("clean", clean)
    noise = _as_signal("noise", noise)
    if not np.isfinite(snr_db):
        raise ValueError(f"snr_db must be finite. Received: snr_db={snr_db!r}")
    clean_power = float(np.mean(clean**2))
    if clean_power == 0.0:
        raise ValueError("clean is all zeros: the SNR of silence is undefined")
    noise = fit_length(noise, clean.shape[0], rng)
    noise_power = float(np.mean(noise**2))
    if noise_power == 0.0:
        raise ValueError("noise is all zeros where it overlaps clean: it cannot be scaled")
    gain = np.sqrt(clean_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    scaled = noise * gain
    return (clean + scaled).astype(np.float32), scaled.astype(np.float32)


def peak_normalize(x: np.ndarray, peak: float = 0.9) -> np.ndarray:
    """Scale ``x`` so that ``max(|x|) == peak``; all-zero input is returned as is.

    Returns:
        float32 copy of ``x``.
    """
    if not 0.0 < peak:
        raise ValueError(f"peak must be positive. Received: peak={peak!r}")
    x = np.asarray(x, dtype=np.float32)
    m = float(np.max(np.abs(x))) if x.size else 0.0
    return x.copy() if m == 0.0 else (x * np.float32(peak / m)).astype(np.float32)


def normalize_pair(
    clean: np.ndarray, noisy: np.ndarray, peak: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """Apply one gain to both signals so the louder peak of the two is ``peak``.

    Keeping the gain common keeps the pair consistent (``noisy - clean`` is
    still the noise) while leaving PCM16 headroom.

    Returns:
        ``(clean, noisy)`` scaled, float32.
    """
    if not 0.0 < peak:
        raise ValueError(f"peak must be positive. Received: peak={peak!r}")
    clean = np.asarray(clean, dtype=np.float32)
    noisy = np.asarray(noisy, dtype=np.float32)
    m = max(
        float(np.max(np.abs(clean))) if clean.size else 0.0,
        float(np.max(np.abs(noisy))) if noisy.size else 0.0,
    )
    gain = np.float32(1.0 if m == 0.0 else peak / m)
    return (clean * gain).astype(np.float32), (noisy * gain).astype(np.float32)


# make_pair: speaking rates (words per minute), target length of the speech
# (two sentences), seconds, and the silence padded on either side so that
# there is noise without speech; 4-6 s in all.
_RATE_RANGE = (165, 195)
_SPEECH_RANGE_S = (3.6, 5.6)
_PAD_S = 0.2
_MAX_TRIES = 20


def _pick_utterance(
    rng: np.random.Generator, voice: str, rate: int, sample_rate: int
) -> tuple[np.ndarray, tuple[str, str]]:
    """Two distinct random sentences whose speech lasts 3.6-5.6 s (or the
    closest of 20 random pairs)."""
    low, high = _SPEECH_RANGE_S
    best = None
    for _ in range(_MAX_TRIES):
        i, j = rng.choice(len(SENTENCES), size=2, replace=False)
        chosen = (SENTENCES[i], SENTENCES[j])
        speech = synthesize(" ".join(chosen), voice=voice, rate=rate, sample_rate=sample_rate)
        duration = speech.shape[0] / sample_rate
        miss = max(low - duration, duration - high, 0.0)
        if best is None or miss < best[0]:
            best = (miss, speech, chosen)
        if miss == 0.0:
            break
    return best[1], best[2]


def make_pair(
    seed: int = 0,
    snr_db: float = 5.0,
    noise: str | os.PathLike = "babble",
    text: str | None = None,
    sample_rate: int = 16000,
    peak: float = 0.9,
) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic clean utterance and its noisy mixture, in memory.

    Everything random (voice, sentences, noise, noise offset) is drawn from
    ``numpy.random.default_rng(seed)``, so a seed always gives the same pair.
    The speech is two distinct sentences from
    :data:`~imse_keras.synth.speech.SENTENCES` (3.6-5.6 s of speech) or
    ``text``, in a random voice from :data:`~imse_keras.synth.speech.VOICES`
    at a random rate of 165-195 words per minute, padded with 0.2 s of
    silence on either side: 4-6 s in all. Babble noise is read from the
    sentences not spoken by the target.

    Args:
        seed: random seed.
        snr_db: SNR of the mixture, dB (whole-signal convention, see
            :func:`mix_at_snr`).
        noise: a kind in :data:`~imse_keras.synth.noise.NOISE_TYPES`, or the
            path of a noise recording (see
            :func:`~imse_keras.synth.noise.load_noise`).
        text: what to say instead of two random sentences.
        sample_rate: Hz.
        peak: common peak of the pair after :func:`normalize_pair`.

    Returns:
        ``(clean, noisy)``, float32 ``[n]`` each, same length.

    Raises:
        ValueError: an unknown noise kind that is not a file either.
        SynthesisError: eSpeak NG is not available.
    """
    is_kind = isinstance(noise, str) and noise in NOISE_TYPES
    if not is_kind and not Path(noise).is_file():
        raise ValueError(
            f"noise must be one of {', '.join(NOISE_TYPES)} or an existing audio file. "
            f"Received: noise={noise!r}"
        )
    rng = np.random.default_rng(seed)
    voice = VOICES[int(rng.integers(len(VOICES)))]
    rate = int(rng.integers(_RATE_RANGE[0], _RATE_RANGE[1] + 1))
    if text is None:
        speech, spoken = _pick_utterance(rng, voice, rate, sample_rate)
    else:
        speech = synthesize(text, voice=voice, rate=rate, sample_rate=sample_rate)
        spoken = ()
    pad = np.zeros(int(round(_PAD_S * sample_rate)), np.float32)
    clean = np.concatenate([pad, speech, pad])
    n = clean.shape[0]
    if noise == "babble":
        others = [s for s in SENTENCES if s not in spoken]
        noise_signal = babble(n, sample_rate, rng, sentences=others)
    elif is_kind:
        noise_signal = make_noise(noise, n, sample_rate, rng)
    else:
        noise_signal = load_noise(noise, n, sample_rate, rng)
    noisy, _ = mix_at_snr(clean, noise_signal, snr_db, rng)
    return normalize_pair(clean, noisy, peak)


def make_example(
    out_dir: str | os.PathLike,
    seed: int = 0,
    snr_db: float = 5.0,
    noise: str | os.PathLike = "babble",
    text: str | None = None,
    name: str = "example",
    sample_rate: int = 16000,
) -> tuple[Path, Path]:
    """Write a clean/noisy pair from :func:`make_pair` as 16-bit PCM WAVs.

    The files are ``out_dir/clean/<name>.wav`` and ``out_dir/noisy/<name>.wav``,
    written atomically (parent directories are created). The same arguments
    give byte-identical files.

    Returns:
        ``(clean_path, noisy_path)``.
    """
    from imse_keras.audio_io import write_audio

    clean, noisy = make_pair(
        seed=seed, snr_db=snr_db, noise=noise, text=text, sample_rate=sample_rate
    )
    out = Path(out_dir)
    clean_path = out / "clean" / f"{name}.wav"
    noisy_path = out / "noisy" / f"{name}.wav"
    write_audio(clean_path, clean, sample_rate, subtype="PCM_16")
    write_audio(noisy_path, noisy, sample_rate, subtype="PCM_16")
    return clean_path, noisy_path
