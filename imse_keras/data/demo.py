"""``make_demo_data``: a small, reproducible VoiceBank-layout dataset, made offline.

Speech is synthesised with eSpeak NG (several voices and rates, see
:func:`imse_keras.synth.make_pair`), mixed with synthetic noises and, when
given, real noise recordings, at SNRs drawn from a range.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imse_keras.data.layout import VOICEBANK_DIRS

__all__ = ["make_demo_data"]


def make_demo_data(
    out: str | os.PathLike,
    n_train: int = 8,
    n_test: int = 2,
    noises=("white", "pink", "brown", "babble", "hum", "clicks"),
    noise_dir: str | os.PathLike | None = None,
    snr_range: tuple[float, float] = (0.0, 15.0),
    sample_rate: int = 16000,
    seed: int = 0,
) -> dict:
    """Write ``n_train`` + ``n_test`` clean/noisy pairs in the VoiceBank layout.

    File names are ``p<split><index>_<noise>.wav``, 16-bit PCM at
    ``sample_rate`` (48000 reproduces the original release's rate). The same
    arguments give the same files.

    Returns:
        ``{"train": n_train, "test": n_test, "files": [...]}``.
    """
    from imse_keras.audio_io import find_audio_files, resample, write_audio
    from imse_keras.synth.mix import make_pair

    kinds = list(noises)
    if noise_dir is not None:
        kinds += [str(p) for p in find_audio_files([noise_dir])]
    if not kinds:
        raise ValueError("no noise kinds or noise files to mix with")
    rng = np.random.default_rng(seed)
    out = Path(out)
    written = []
    for split, count, offset in (("train", n_train, 0), ("test", n_test, 10_000)):
        clean_dir, noisy_dir = (out / d for d in VOICEBANK_DIRS[split])
        for i in range(count):
            kind = kinds[(i + offset) % len(kinds)]
            snr = float(rng.uniform(*snr_range))
            clean, noisy = make_pair(seed=seed * 100_003 + offset + i, snr_db=snr, noise=kind)
            tag = Path(kind).stem if os.sep in kind or "." in kind else kind
            name = f"p{split[:2]}{i:03d}_{tag}.wav"
            for folder, x in ((clean_dir, clean), (noisy_dir, noisy)):
                write_audio(folder / name, resample(x, 16000, sample_rate), sample_rate, subtype="PCM_16")
                written.append(str(folder / name))
    return {"train": n_train, "test": n_test, "files": written}
