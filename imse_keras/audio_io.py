"""Reading, writing, resampling and finding audio files, with clear errors.

Layouts: samples are float32 ``[n_samples, n_channels]`` (soundfile's
frames-first order, always 2-D when read); ``write_audio`` and ``resample``
also take mono ``[n_samples]``. Values are full-scale floats in [-1, 1] for
integer formats.

Every failure to do with a particular file raises :class:`AudioError`, whose
message starts with the file name, so the CLI can show it as is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioData",
    "AudioError",
    "find_audio_files",
    "read_audio",
    "resample",
    "write_audio",
]

#: Extensions (lower case) that :func:`find_audio_files` picks up in directories.
AUDIO_EXTENSIONS = (".wav", ".flac")

# Subtypes stored as floats; every other subtype has a fixed integer range
# that libsndfile would wrap around (not saturate) on overflow.
_FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")


class AudioError(ValueError):
    """A file could not be read, written or found as audio.

    Attributes:
        path: the file in question, as given.
        reason: what is wrong with it.
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason

    def __reduce__(self):
        # Default pickling would call AudioError(message) and fail on the
        # missing argument (e.g. when raised in a worker process).
        return (type(self), (self.path, self.reason))


@dataclass(frozen=True)
class AudioData:
    """Decoded audio and how it was stored.

    Attributes:
        samples: float32 ``[n_samples, n_channels]``, always 2-D.
        sample_rate: Hz.
        subtype: soundfile subtype, e.g. ``"PCM_16"`` or ``"FLOAT"``.
        format: soundfile major format, e.g. ``"WAV"`` or ``"FLAC"``.
    """

    samples: np.ndarray
    sample_rate: int
    subtype: str
    format: str

    @property
    def num_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def num_channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.num_samples / self.sample_rate


def read_audio(path: str | os.PathLike) -> AudioData:
    """Decode an audio file with soundfile.

    Returns:
        :class:`AudioData` with float32 samples ``[n_samples, n_channels]``.

    Raises:
        AudioError: the path is missing or a directory, the file is not a
            readable audio file, holds no samples, or holds NaN/inf samples
            (possible in float WAVs).
    """
    p = Path(path)
    if not p.exists():
        raise AudioError(path, "no such file")
    if p.is_dir():
        raise AudioError(path, "is a directory, not an audio file")
    try:
        with sf.SoundFile(p) as f:
            samples = f.read(dtype="float32", always_2d=True)
            sample_rate, subtype, fmt = int(f.samplerate), str(f.subtype), str(f.format)
    except (sf.SoundFileError, RuntimeError) as e:
        raise AudioError(path, f"not a readable audio file ({e})") from e
    if samples.shape[0] == 0:
        raise AudioError(path, "empty (0 samples)")
    if not np.all(np.isfinite(samples)):
        raise AudioError(path, "contains NaN or infinite samples")
    return AudioData(samples=samples, sample_rate=sample_rate, subtype=subtype, format=fmt)


def _current_umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_audio(
    path: str | os.PathLike,
    samples: np.ndarray,
    sample_rate: int,
    subtype: str | None = None,
    format: str | None = None,
) -> None:
    """Write audio atomically: the target is either the old file or the new one.

    The data go to a hidden temporary file in the target's directory, which
    then replaces the target with ``os.replace`` (atomic on one file system);
    on any error the temporary file is removed and the target is untouched.
    Missing parent directories are created.

    For every subtype except ``FLOAT`` and ``DOUBLE`` the samples are clipped
    to [-1, 1] first: libsndfile would otherwise wrap overflowing values
    around to the opposite sign, a loud click, where clipping is a mild
    distortion. The float subtypes store values as they are.

    Args:
        path: target file.
        samples: ``[n_samples]`` or ``[n_samples, n_channels]``, real.
        sample_rate: Hz, positive.
        subtype: soundfile subtype; ``None`` is soundfile's default for the
            format (``PCM_16`` for WAV and FLAC).
        format: soundfile format; ``None`` infers it from the extension.

    Raises:
        AudioError: on an unknown format, an invalid subtype for it, bad
            samples, or a failed write.
    """
    target = Path(path)
    if format is None:
        ext = target.suffix.lstrip(".").upper()
        if ext not in sf.available_formats():
            raise AudioError(
                path,
                f"cannot infer an audio format from the extension {target.suffix!r}; "
                "use .wav or .flac, or pass format=",
            )
        format = ext
    format = format.upper()
    if subtype is None:
        subtype = sf.default_subtype(format)
    subtype = subtype.upper()
    if not sf.check_format(format, subtype):
        raise AudioError(path, f"subtype {subtype!r} is not valid for format {format!r}")
    if int(sample_rate) != sample_rate or sample_rate <= 0:
        raise AudioError(path, f"sample_rate must be a positive integer, got {sample_rate!r}")

    data = np.asarray(samples)
    if data.ndim not in (1, 2) or np.iscomplexobj(data) or data.dtype.kind not in "fiu":
        raise AudioError(
            path,
            f"samples must be real [n] or [n, channels]; got shape {data.shape}, "
            f"dtype {data.dtype}",
        )
    if data.shape[0] == 0:
        raise AudioError(path, "refusing to write 0 samples")
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)):
            raise AudioError(path, "samples contain NaN or inf")
        if subtype not in _FLOAT_SUBTYPES:
            data = np.clip(data, -1.0, 1.0)

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AudioError(path, f"cannot create the directory {target.parent} ({e})") from e
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as e:
        raise AudioError(path, f"cannot write in {target.parent} ({e})") from e
    os.close(fd)
    try:
        # The temp name ends in .tmp, so the format must be given explicitly.
        sf.write(tmp_name, data, int(sample_rate), subtype=subtype, format=format)
        # mkstemp creates the file 0600; give the result normal permissions.
        os.chmod(tmp_name, 0o666 & ~_current_umask())
        os.replace(tmp_name, target)
    except BaseException as e:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        if isinstance(e, (sf.SoundFileError, OSError, RuntimeError)):
            raise AudioError(path, f"could not write audio ({e})") from e
        raise


def resample(x: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Change the sample rate with soxr (``"HQ"`` quality) along axis 0.

    Args:
        x: ``[n_samples]`` or ``[n_samples, n_channels]``.
        orig_sr, target_sr: Hz, positive.

    Returns:
        about ``n_samples * target_sr / orig_sr`` samples (soxr's rounding),
        same channel layout, float32 (float64 input stays float64). Equal rates return ``x`` unchanged (no copy).
    """
    for name, sr in (("orig_sr", orig_sr), ("target_sr", target_sr)):
        if not sr > 0:
            raise ValueError(f"{name} must be positive. Received: {name}={sr}")
    x = np.asarray(x)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"resample expects [n_samples] or [n_samples, n_channels]. Received: shape {x.shape}"
        )
    if orig_sr == target_sr:
        return x
    if x.dtype != np.float64:
        x = x.astype(np.float32)
    return soxr.resample(np.ascontiguousarray(x), orig_sr, target_sr, quality="HQ")


def find_audio_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand a list of files and directories into the audio files to process.

    A file given explicitly is kept whatever its extension (reading it reports
    if it is not audio). A directory contributes its files whose extension is
    in :data:`AUDIO_EXTENSIONS` (any case), sorted by name, non-recursively,
    skipping hidden files (names starting with ``.``: temporary files of
    :func:`write_audio`, macOS ``._*`` resource forks). Duplicates are dropped,
    keeping the first occurrence.

    Returns:
        The files, in the order given (directories expanded in place).

    Raises:
        AudioError: for a path that does not exist, or a directory with no
            audio files.
    """
    found: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append(p)

    for item in paths:
        p = Path(item)
        if p.is_dir():
            files = sorted(
                c
                for c in p.iterdir()
                if c.is_file()
                and not c.name.startswith(".")
                and c.suffix.lower() in AUDIO_EXTENSIONS
            )
            if not files:
                raise AudioError(
                    item, f"directory contains no audio files ({', '.join(AUDIO_EXTENSIONS)})"
                )
            for c in files:
                add(c)
        elif p.exists():
            add(p)
        else:
            raise AudioError(item, "no such file or directory")
    return found
