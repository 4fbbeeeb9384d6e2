"""Score enhanced audio against clean references, file by file.

Files are paired by name: ``clean/x.wav`` with ``enhanced/x.wav``. Signals are
scored at 16 kHz mono (other rates are resampled; multi-channel files are
averaged to mono, since the standard metrics are defined for one channel).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from imse_keras.audio_io import AudioError, find_audio_files, read_audio, resample
from imse_keras.metrics import score_pair, summarize

__all__ = ["pair_files", "load_mono_16k", "evaluate_pairs", "SCORING_RATE"]

SCORING_RATE = 16000


def pair_files(clean_dir: str | os.PathLike, other_dir: str | os.PathLike) -> list[tuple[Path, Path]]:
    """Match files of ``other_dir`` to ``clean_dir`` by name.

    Raises:
        AudioError: a folder is missing or empty, or no names match.
        ValueError: files in ``other_dir`` without a clean reference.
    """
    clean = {p.name: p for p in find_audio_files([clean_dir])}
    other = find_audio_files([other_dir])
    unmatched = [p.name for p in other if p.name not in clean]
    if unmatched:
        raise ValueError(
            f"{len(unmatched)} file(s) in {other_dir} have no clean reference in {clean_dir} "
            f"(e.g. {unmatched[0]})"
        )
    return [(clean[p.name], p) for p in other]


def load_mono_16k(path: str | os.PathLike) -> np.ndarray:
    """Read a file as 1-D float32 at 16 kHz (channels averaged)."""
    audio = read_audio(path)
    x = audio.samples.mean(axis=1)
    return resample(x, audio.sample_rate, SCORING_RATE).astype(np.float32)


def evaluate_pairs(
    pairs: list[tuple[Path, Path]],
    process: Callable[[np.ndarray], np.ndarray] | None = None,
    progress: bool = False,
) -> tuple[list[dict], dict]:
    """Score each ``(clean, other)`` pair; ``process`` (e.g. enhancement) is
    applied to ``other``'s 16 kHz signal first when given.

    Returns:
        ``(rows, mean)``: one dict per file (``file`` plus every metric) and the
        NaN-ignoring means from :func:`imse_keras.metrics.summarize`.
    """
    iterator = pairs
    if progress:
        from tqdm import tqdm

        iterator = tqdm(pairs, unit="file", desc="scoring")
    rows = []
    for clean_path, other_path in iterator:
        clean = load_mono_16k(clean_path)
        other = load_mono_16k(other_path)
        if process is not None:
            other = process(other)
        try:
            scores = score_pair(clean, other, SCORING_RATE)
        except ValueError as err:
            raise AudioError(other_path, str(err)) from err
        rows.append({"file": other_path.name, **scores})
    return rows, summarize(rows)
