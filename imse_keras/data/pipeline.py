"""The training pipeline: random crops, RMS normalisation, STFT features, tf.data.

Each example is a random ``segment_size`` crop of a (clean, noisy) pair,
zero-padded when the file is shorter. Both signals are scaled by the norm of
the *noisy* crop (``sqrt(n / sum(noisy ** 2))``), as inference normalises its
input, and turned into the network's features by the front end used at
inference (:class:`imse_keras.frontend.FrontEnd`).

Batches are ``(x, y)`` with ``x = (noisy_mag_c, noisy_pha)`` each ``[B, T, F]``
and ``y = {"mag": [B, T, F], "pha": [B, T, F], "com": [B, T, F, 2],
"wav": [B, segment_size]}`` (clean targets; ``wav`` feeds the PESQ target of
the metric discriminator).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imse_keras.audio_io import read_audio
from imse_keras.config import IMSEConfig, get_config
from imse_keras.frontend import FrontEnd

__all__ = ["Example", "crop_pair", "features", "make_dataset", "mix_source", "pair_source"]


@dataclass(frozen=True)
class Example:
    clean: np.ndarray  # [n] float32, 16 kHz
    noisy: np.ndarray  # [n] float32, same length


def crop_pair(clean: np.ndarray, noisy: np.ndarray, size: int, rng: np.random.Generator):
    """A random ``size``-sample crop of both signals at the same offset; zero-pads short ones."""
    n = min(len(clean), len(noisy))
    if n >= size:
        start = int(rng.integers(0, n - size + 1))
        return clean[start : start + size], noisy[start : start + size]
    pad = (0, size - n)
    return np.pad(clean[:n], pad), np.pad(noisy[:n], pad)


def features(clean: np.ndarray, noisy: np.ndarray, config: IMSEConfig | FrontEnd):
    """Normalise a crop pair by the noisy norm and compute STFT features.

    Returns:
        ``(noisy_mag, noisy_pha, clean_mag, clean_pha, clean_com, clean_wav)``,
        float32, ``[T, F]`` x 4, ``[T, F, 2]`` and ``[n]``.
    """
    fe = FrontEnd.from_config(config)
    noisy_n, scale = fe.normalize(noisy)
    clean_n = fe.apply_scale(clean, scale)
    nm, npha = fe.features(noisy_n)
    cm, cpha = fe.features(clean_n)
    return nm, npha, cm, cpha, fe.cartesian(cm, cpha), clean_n


def _mono(path: Path) -> np.ndarray:
    return read_audio(path).samples.mean(axis=1).astype(np.float32)


def pair_source(pairs: Sequence, seed: int = 0) -> Callable[[], Iterator[Example]]:
    """Endless shuffled (clean, noisy) examples from :class:`~imse_keras.data.Pair` s."""

    def gen():
        rng = np.random.default_rng(seed)
        while True:
            for i in rng.permutation(len(pairs)):
                p = pairs[i]
                yield Example(_mono(p.clean), _mono(p.noisy)), rng

    return gen


def mix_source(
    clean: Sequence,
    noise: Sequence[str | Path],
    snr_range: tuple[float, float] = (-5.0, 20.0),
    gain_db_range: tuple[float, float] = (0.0, 0.0),
    seed: int = 0,
) -> Callable[[], Iterator[Example]]:
    """Endless examples mixing clean files with noise at a random SNR.

    Args:
        clean: :class:`~imse_keras.data.Pair` s (``noisy`` unused) or paths.
        noise: noise recordings (any rate; see :func:`imse_keras.synth.load_noise`)
            or names in :data:`imse_keras.synth.noise.NOISE_TYPES`.
        snr_range: dB, uniform.
        gain_db_range: extra gain applied to the mixture and its clean target, dB, uniform.
    """
    from imse_keras.synth.mix import mix_at_snr
    from imse_keras.synth.noise import NOISE_TYPES, load_noise, make_noise

    if not noise:
        raise ValueError("mix_source needs at least one noise file or noise kind")

    def gen():
        rng = np.random.default_rng(seed)
        while True:
            for i in rng.permutation(len(clean)):
                c = clean[i]
                x = _mono(getattr(c, "clean", c))
                kind = noise[int(rng.integers(len(noise)))]
                if isinstance(kind, str) and kind in NOISE_TYPES:
                    v = make_noise(kind, len(x), 16000, rng)
                else:
                    v = load_noise(kind, len(x), 16000, rng)
                noisy, _ = mix_at_snr(x, v, float(rng.uniform(*snr_range)), rng)
                g = np.float32(10 ** (rng.uniform(*gain_db_range) / 20))
                yield Example(x * g, np.asarray(noisy, np.float32) * g), rng

    return gen


def make_dataset(
    source: Callable[[], Iterator],
    config: IMSEConfig | str = "imse",
    batch_size: int = 2,
    segment_size: int | None = None,
):
    """A ``tf.data.Dataset`` of training batches (see the module docstring).

    Args:
        source: a callable returning an iterator of ``(Example, rng)``, e.g.
            :func:`pair_source` or :func:`mix_source`; the rng draws the crops.
        segment_size: crop length in samples (default ``config.segment_size``);
            ``1 + segment_size // hop`` must be a multiple of 4.
    """
    import tensorflow as tf

    config = get_config(config)
    size = int(segment_size or config.segment_size)
    frames = 1 + size // config.hop_length
    if frames % 4:
        raise ValueError(
            f"segment_size must give a frame count divisible by 4. Received: segment_size={size} (T={frames})"
        )
    f = config.num_freqs
    fe = FrontEnd.from_config(config)

    def gen():
        for ex, rng in source():
            c, n = crop_pair(ex.clean, ex.noisy, size, rng)
            nm, npha, cm, cpha, com, wav = features(c, n, fe)
            yield (nm, npha), {"mag": cm, "pha": cpha, "com": com, "wav": wav}

    spec = tf.TensorSpec((frames, f), tf.float32)
    signature = (
        (spec, spec),
        {
            "mag": spec,
            "pha": spec,
            "com": tf.TensorSpec((frames, f, 2), tf.float32),
            "wav": tf.TensorSpec((size,), tf.float32),
        },
    )
    ds = tf.data.Dataset.from_generator(gen, output_signature=signature)
    return ds.batch(batch_size, drop_remainder=True).prefetch(2)
