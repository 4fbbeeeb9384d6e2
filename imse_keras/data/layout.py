"""Find training data on disk, check it, and cache it at 16 kHz.

Layouts (detected by :func:`detect_layout`):

* ``voicebank``: ``clean_trainset_28spk_wav/``, ``noisy_trainset_28spk_wav/``
  (training) and optionally ``clean_testset_wav/``, ``noisy_testset_wav/``
  (validation), at 48 kHz (the original release) or 16 kHz.
* ``paired``: ``clean/`` and ``noisy/`` with the same file names; optionally
  ``test/clean/`` and ``test/noisy/`` for validation.
* ``mix``: ``clean/`` and ``noise/``; noise is mixed on the fly at a random SNR.

Files at another rate than 16 kHz are resampled once with soxr into a cache
folder, and later runs read the cached copy. Every file is checked before
training: unreadable files, missing partners, clean/noisy pairs of different
rate or length, rates outside ``accepted_rates`` and silent clean clips are
reported by name, and either skipped and counted or raised as
:class:`DataError` (``skip_bad=False``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imse_keras.audio_io import AudioError, find_audio_files, read_audio, resample, write_audio

__all__ = [
    "ACCEPTED_RATES",
    "VOICEBANK_DIRS",
    "DataError",
    "DataLayout",
    "DataReport",
    "Pair",
    "detect_layout",
    "prepare_clean",
    "prepare_pairs",
]

#: (clean, noisy) folder names of VoiceBank+DEMAND, by split.
VOICEBANK_DIRS = {
    "train": ("clean_trainset_28spk_wav", "noisy_trainset_28spk_wav"),
    "test": ("clean_testset_wav", "noisy_testset_wav"),
}
#: Source rates the loader accepts (all resampled to the model's 16 kHz).
ACCEPTED_RATES = (16000, 48000)
#: A clean clip whose RMS is below this (dBFS) is "silent".
SILENCE_DBFS = -60.0
TARGET_SR = 16000


class DataError(ValueError):
    """Bad training data (raised when ``skip_bad=False``, or when nothing is usable)."""


@dataclass(frozen=True)
class Pair:
    """One usable example: paths of 16 kHz mono-readable files."""

    name: str
    clean: Path
    noisy: Path | None  # None in the ``mix`` layout


@dataclass
class DataReport:
    """What the checks found. ``bad`` holds ``(file name, reason)``."""

    ok: int = 0
    bad: list = field(default_factory=list)
    resampled: int = 0
    cached: int = 0

    def add_bad(self, path, reason: str, skip_bad: bool) -> None:
        self.bad.append((str(path), reason))
        if not skip_bad:
            raise DataError(f"{path}: {reason} (use --skip-bad to skip such files)")

    def summary(self) -> str:
        text = f"{self.ok} usable, {len(self.bad)} skipped, {self.resampled} resampled, {self.cached} from cache"
        return text + "".join(f"\n  skipped {p}: {r}" for p, r in self.bad)


@dataclass(frozen=True)
class DataLayout:
    """Where the training and validation data of a folder are."""

    kind: str  # "voicebank" | "paired" | "mix"
    root: Path
    train_clean: Path
    train_other: Path  # noisy folder, or noise folder for "mix"
    val_clean: Path | None = None
    val_noisy: Path | None = None


def detect_layout(root: str | os.PathLike) -> DataLayout:
    """Detect the layout of a data folder (see the module docstring).

    Raises:
        DataError: the folder matches no layout; the message lists what is looked for.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a directory")
    tc, tn = (root / d for d in VOICEBANK_DIRS["train"])
    vc, vn = (root / d for d in VOICEBANK_DIRS["test"])
    val = (vc, vn) if vc.is_dir() and vn.is_dir() else (None, None)
    if tc.is_dir() and tn.is_dir():
        return DataLayout("voicebank", root, tc, tn, *val)
    if (root / "clean").is_dir() and (root / "noisy").is_dir():
        tv = (root / "test" / "clean", root / "test" / "noisy")
        val = tv if all(p.is_dir() for p in tv) else val
        return DataLayout("paired", root, root / "clean", root / "noisy", *val)
    if (root / "clean").is_dir() and (root / "noise").is_dir():
        return DataLayout("mix", root, root / "clean", root / "noise", *val)
    raise DataError(
        f"{root}: no known layout; expected {'/ + '.join(VOICEBANK_DIRS['train'])}/, "
        "or clean/ + noisy/, or clean/ + noise/"
    )


def _cache_folder(cache_dir: Path, source_dir: Path) -> Path:
    key = hashlib.sha256(str(source_dir.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"{source_dir.name}-{key}-16k"


def _is_silent(x: np.ndarray) -> bool:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return rms == 0.0 or 20 * np.log10(rms) < SILENCE_DBFS


def _load_16k(path: Path, cache: Path, report: DataReport, accepted_rates) -> np.ndarray:
    """Read ``path`` (or its fresh cached 16 kHz copy) as mono 16 kHz float32.

    Raises:
        AudioError: unreadable, or a rate outside ``accepted_rates``.
    """
    cached = cache / (path.stem + ".wav")
    if cached.is_file() and cached.stat().st_mtime >= path.stat().st_mtime:
        report.cached += 1
        return read_audio(cached).samples.mean(axis=1)
    audio = read_audio(path)
    if audio.sample_rate not in accepted_rates:
        raise AudioError(path, f"sample rate {audio.sample_rate} Hz not in {tuple(accepted_rates)}")
    x = audio.samples.mean(axis=1)
    if audio.sample_rate != TARGET_SR:
        x = resample(x, audio.sample_rate, TARGET_SR)
        cache.mkdir(parents=True, exist_ok=True)
        write_audio(cached, x, TARGET_SR, subtype="FLOAT")
        report.resampled += 1
    return x


def _source_of(path: Path, cache: Path) -> Path:
    cached = cache / (path.stem + ".wav")
    return cached if cached.is_file() else path


def _list(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in find_audio_files([folder])}


def prepare_pairs(
    clean_dir: str | os.PathLike,
    noisy_dir: str | os.PathLike,
    cache_dir: str | os.PathLike,
    skip_bad: bool = True,
    accepted_rates=ACCEPTED_RATES,
    max_length_diff: int = 0,
) -> tuple[list[Pair], DataReport]:
    """Check paired folders and return the usable pairs at 16 kHz.

    Pairs are matched by file stem. A file is bad when it has no partner, is
    unreadable, has a rate outside ``accepted_rates``, differs from its
    partner in rate or (at 16 kHz) in length by more than ``max_length_diff``
    samples, or when the clean clip is silent (below -60 dBFS RMS).

    Returns:
        ``(pairs, report)``, pairs sorted by name.

    Raises:
        DataError: a bad file with ``skip_bad=False``, or no usable pair.
    """
    clean_dir, noisy_dir, cache_dir = Path(clean_dir), Path(noisy_dir), Path(cache_dir)
    report = DataReport()
    try:
        clean, noisy = _list(clean_dir), _list(noisy_dir)
    except AudioError as e:
        raise DataError(str(e)) from e
    cache_c, cache_n = _cache_folder(cache_dir, clean_dir), _cache_folder(cache_dir, noisy_dir)
    pairs = []
    for name in sorted(set(clean) | set(noisy)):
        if name not in noisy:
            report.add_bad(clean[name], f"no partner {name}.* in {noisy_dir}", skip_bad)
            continue
        if name not in clean:
            report.add_bad(noisy[name], f"no partner {name}.* in {clean_dir}", skip_bad)
            continue
        try:
            rates = {p: _peek_rate(p) for p in (clean[name], noisy[name])}
            if len(set(rates.values())) > 1:
                raise AudioError(
                    clean[name], "clean and noisy sample rates differ "
                    f"({rates[clean[name]]} vs {rates[noisy[name]]} Hz)"
                )
            c = _load_16k(clean[name], cache_c, report, accepted_rates)
            n = _load_16k(noisy[name], cache_n, report, accepted_rates)
        except AudioError as e:
            report.add_bad(e.path, e.reason, skip_bad)
            continue
        if abs(len(c) - len(n)) > max_length_diff:
            report.add_bad(clean[name], f"length differs from its noisy partner ({len(c)} vs {len(n)} samples at 16 kHz)", skip_bad)
            continue
        if _is_silent(c):
            report.add_bad(clean[name], f"silent clean clip (RMS below {SILENCE_DBFS:g} dBFS)", skip_bad)
            continue
        pairs.append(Pair(name, _source_of(clean[name], cache_c), _source_of(noisy[name], cache_n)))
    report.ok = len(pairs)
    if not pairs:
        raise DataError(f"no usable pairs in {clean_dir} + {noisy_dir}: {report.summary()}")
    return pairs, report


def prepare_clean(
    clean_dir: str | os.PathLike,
    cache_dir: str | os.PathLike,
    skip_bad: bool = True,
    accepted_rates=ACCEPTED_RATES,
) -> tuple[list[Pair], DataReport]:
    """Check a folder of clean speech (``mix`` layout); ``Pair.noisy`` is None."""
    clean_dir = Path(clean_dir)
    report = DataReport()
    try:
        clean = _list(clean_dir)
    except AudioError as e:
        raise DataError(str(e)) from e
    cache = _cache_folder(Path(cache_dir), clean_dir)
    out = []
    for name, path in sorted(clean.items()):
        try:
            c = _load_16k(path, cache, report, accepted_rates)
        except AudioError as e:
            report.add_bad(e.path, e.reason, skip_bad)
            continue
        if _is_silent(c):
            report.add_bad(path, f"silent clean clip (RMS below {SILENCE_DBFS:g} dBFS)", skip_bad)
            continue
        out.append(Pair(name, _source_of(path, cache), None))
    report.ok = len(out)
    if not out:
        raise DataError(f"no usable clean files in {clean_dir}: {report.summary()}")
    return out, report


def _peek_rate(path: Path) -> int:
    import soundfile as sf

    try:
        return int(sf.info(str(path)).samplerate)
    except Exception as e:  # soundfile raises several types for bad headers
        raise AudioError(path, f"not a readable audio file ({e})") from e
