"""Evaluation: score (clean, enhanced) pairs with every metric, average rows, print a table.

:func:`score_pair` scores two waveforms; :func:`pair_files` and
:func:`evaluate_pairs` do the same for folders of files paired by name
(``clean/x.wav`` with ``enhanced/x.wav``). Files are scored at 16 kHz mono
(other rates are resampled; multi-channel files are averaged to mono, since
the standard metrics are defined for one channel).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from imse_keras.audio_io import AudioError, find_audio_files, read_audio, resample

from imse_keras.metrics._validate import as_signal, check_sample_rate_16k
from imse_keras.metrics.composite import composite
from imse_keras.metrics.pesq_stoi import pesq_wb, stoi
from imse_keras.metrics.si_sdr import si_sdr

__all__ = [
    "METRICS", "MAX_LENGTH_MISMATCH", "SCORING_RATE", "score_pair", "summarize", "format_table",
    "pair_files", "load_mono_16k", "load_pairs", "evaluate_pairs",
]

#: Rate every file is scored at, Hz.
SCORING_RATE = 16000

#: Keys of :func:`score_pair`'s result, in table order.
METRICS = ("pesq", "stoi", "si_sdr", "csig", "cbak", "covl", "ssnr")

#: Largest tolerated length difference, as a fraction of the longer signal. Models
#: that frame their input (STFT padding, hop multiples) return a few samples more
#: or less; anything beyond 1 % is a mismatched pair, not padding.
MAX_LENGTH_MISMATCH = 0.01


def score_pair(clean, enhanced, sr: int = 16000) -> dict[str, float]:
    """All metrics of ``enhanced`` against ``clean``.

    Args:
        clean: reference waveform, shape ``(samples,)``, float in [-1, 1], 16 kHz.
        enhanced: waveform under test, shape ``(samples',)``, float. Both are trimmed
            to the shorter length (at the end) before scoring.
        sr: sample rate in Hz; must be 16000.

    Returns:
        ``{"pesq", "stoi", "si_sdr", "csig", "cbak", "covl", "ssnr"}`` as floats
        (PESQ-WB, STOI, SI-SDR in dB, the three composites, segmental SNR in dB).
        ``pesq``, ``csig``, ``cbak`` and ``covl`` are NaN when PESQ finds no speech in
        the reference.

    Raises:
        ValueError: ``sr`` is not 16000; an input is not a finite 1-D float array;
            the lengths differ by more than 1 % of the longer one
            (:data:`MAX_LENGTH_MISMATCH`); or the trimmed pair is shorter than the
            0.25 s PESQ needs.
    """
    check_sample_rate_16k(sr)
    clean = as_signal(clean, "clean")
    enhanced = as_signal(enhanced, "enhanced")
    longest = max(clean.size, enhanced.size)
    if abs(clean.size - enhanced.size) > MAX_LENGTH_MISMATCH * longest:
        raise ValueError(
            f"`clean` and `enhanced` lengths differ by more than {MAX_LENGTH_MISMATCH:.0%}; "
            "are they the same utterance? "
            f"Received: len(clean)={clean.size}, len(enhanced)={enhanced.size}"
        )
    n = min(clean.size, enhanced.size)
    clean, enhanced = clean[:n], enhanced[:n]

    pesq_score = pesq_wb(clean, enhanced, sr)
    comp = composite(clean, enhanced, sr, pesq_score=pesq_score)
    scores = {
        "pesq": pesq_score,
        "stoi": stoi(clean, enhanced, sr),
        "si_sdr": si_sdr(clean, enhanced),
        "csig": comp["csig"],
        "cbak": comp["cbak"],
        "covl": comp["covl"],
        "ssnr": comp["ssnr"],
    }
    return {k: float(scores[k]) for k in METRICS}


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _metric_keys(rows: Sequence[Mapping]) -> list[str]:
    """Numeric keys of ``rows`` in first-seen order (``file`` and other labels skipped)."""
    keys: list[str] = []
    for row in rows:
        for k, v in row.items():
            if k not in keys and _is_number(v):
                keys.append(k)
    return keys


def summarize(rows: Sequence[Mapping]) -> dict[str, float]:
    """Mean of each metric over ``rows``, ignoring NaNs.

    Args:
        rows: one mapping per file, e.g. :func:`score_pair` results, optionally with
            a ``file`` label; non-numeric values are ignored.

    Returns:
        ``{metric: mean}`` for every numeric key (NaN when no row has a finite value),
        then ``n`` (number of rows) and ``n_<metric>`` (rows with a non-NaN value of
        that metric), e.g. ``{"pesq": 2.19, ..., "n": 25, "n_pesq": 25, ...}``.

    Raises:
        ValueError: ``rows`` is empty.
    """
    if len(rows) == 0:
        raise ValueError("`rows` is empty; there is nothing to summarize.")
    keys = _metric_keys(rows)
    means: dict[str, float] = {}
    counts: dict[str, float] = {}
    for k in keys:
        values = np.array([float(r[k]) for r in rows if k in r and _is_number(r[k])])
        valid = values[~np.isnan(values)]
        means[k] = float(valid.mean()) if valid.size else float("nan")
        counts[f"n_{k}"] = int(valid.size)
    return {**means, "n": len(rows), **counts}


def format_table(rows: Sequence[Mapping], mean: Mapping) -> str:
    """Aligned plain-text table: a header, one line per file, then a ``mean`` line.

    Args:
        rows: per-file mappings with a ``file`` label and numeric metrics.
        mean: :func:`summarize` output (its ``n`` counts are not printed).

    Returns:
        The table without a trailing newline; numbers have 3 decimals, a missing
        value prints as ``nan``.
    """
    keys = [k for k in _metric_keys(rows) if k != "n" and not k.startswith("n_")]

    def fmt(v) -> str:
        return f"{float(v):.3f}" if _is_number(v) and not math.isnan(float(v)) else "nan"

    body = [[str(r.get("file", i)), *(fmt(r.get(k)) for k in keys)] for i, r in enumerate(rows)]
    body.append(["mean"] + [fmt(mean.get(k)) for k in keys])
    header = ["file", *keys]
    widths = [max(len(line[c]) for line in [header, *body]) for c in range(len(header))]

    def render(line: list[str]) -> str:
        first = line[0].ljust(widths[0])
        rest = [cell.rjust(w) for cell, w in zip(line[1:], widths[1:])]
        return "  ".join([first, *rest]).rstrip()

    rule = "-" * len(render(["-" * w for w in widths]))
    lines = [render(header), rule, *(render(b) for b in body[:-1]), rule, render(body[-1])]
    return "\n".join(lines)


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


def load_pairs(pairs: list[tuple[Path, Path]], progress: bool = False, desc: str = "scoring"):
    """Yield ``(clean_path, other_path, clean, other)`` for each pair, both signals
    read with :func:`load_mono_16k`; a tqdm bar over the pairs when ``progress``."""
    iterator = pairs
    if progress:
        from tqdm import tqdm

        iterator = tqdm(pairs, unit="file", desc=desc)
    for clean_path, other_path in iterator:
        yield clean_path, other_path, load_mono_16k(clean_path), load_mono_16k(other_path)


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
    rows = []
    for _, other_path, clean, other in load_pairs(pairs, progress, "scoring"):
        if process is not None:
            other = process(other)
        try:
            scores = score_pair(clean, other, SCORING_RATE)
        except ValueError as err:
            raise AudioError(other_path, str(err)) from err
        rows.append({"file": other_path.name, **scores})
    return rows, summarize(rows)
