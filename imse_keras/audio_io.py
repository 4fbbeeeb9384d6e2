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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from soundfile import _ffi, _snd  # the C calls iter_audio_blocks needs (see there)

from imse_keras.atomic import atomic_path

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioData",
    "AudioError",
    "AudioInfo",
    "MAX_CHANNELS",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "READ_BLOCK",
    "find_audio_files",
    "iter_audio_blocks",
    "output_format",
    "probe_audio",
    "read_audio",
    "write_error",
    "resample",
    "write_audio",
]

#: Extensions (lower case) that :func:`find_audio_files` picks up in directories,
#: and the only ones written (the container follows the extension).
AUDIO_EXTENSIONS = (".wav", ".flac")

#: libsndfile containers that are read: lossless, with exact lengths. MP3, Ogg
#: and the rest are refused in one line (decoder delay and padding would break
#: the same-length promise, and libmpg123 writes noise to stderr).
INPUT_FORMATS = ("WAV", "WAVEX", "RF64", "FLAC")

#: Sample rates outside this range are refused: below 4 kHz there is no
#: speech band left to enhance (a damaged header claiming 1 Hz would turn an
#: 8 KB file into 40 minutes of model time); above 768 kHz no recorder exists.
MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 768_000

#: More channels than this are refused (a damaged header, or not a recording
#: to enhance channel by channel: each channel costs a full model pass).
MAX_CHANNELS = 64

#: Frames decoded per step by :func:`iter_audio_blocks`.
READ_BLOCK = 1 << 16

# libsndfile reports a FLAC whose STREAMINFO leaves the length unset
# (total_samples = 0, legal for streamed encodes) as this many frames.
_UNKNOWN_FRAMES = 1 << 62

# First bytes of containers that are refused by name rather than "not audio".
_REFUSED_MAGIC = (
    (b"OggS", "Ogg (Vorbis/Opus)"),
    (b"ID3", "MP3"),
    (b"FORM", "AIFF"),
    (b"caff", "CAF"),
)
_ACCEPTED_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"BW64", b"fLaC")

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


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, checked (see :func:`probe_audio`).

    Attributes:
        sample_rate: Hz, within [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE].
        channels: 1 to MAX_CHANNELS.
        subtype: soundfile subtype, e.g. ``"PCM_16"``.
        format: one of :data:`INPUT_FORMATS`.
        frames: the length the header claims, or ``None`` when it does not say
            (a FLAC with total_samples = 0). Only decoding gives the true
            length: :func:`iter_audio_blocks` never trusts this number.
    """

    sample_rate: int
    channels: int
    subtype: str
    format: str
    frames: int | None


def _sniff(path, head: bytes) -> None:
    """Refuse by content what is not a WAV/FLAC before libsndfile sees it."""
    if head[:3] == b"ID3":  # an ID3v2 tag, then the real stream
        size = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
        try:
            with open(path, "rb") as f:
                f.seek(size)
                inner = f.read(4)
        except OSError:
            inner = b""
        if inner == b"fLaC":
            return
    if head[:4] in _ACCEPTED_MAGIC:
        return
    if head[4:8] == b"ftyp":
        name = "MP4/M4A"
    elif len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # MPEG frame sync
        name = "MP3" if head[1] & 0x06 else "AAC"
    else:
        name = next((n for magic, n in _REFUSED_MAGIC if head.startswith(magic)), None)
    if name is not None:
        raise AudioError(
            path, f"{name} is not supported (WAV or FLAC only); convert it first, "
            "e.g. ffmpeg -i IN OUT.wav",
        )
    raise AudioError(path, f"not a readable audio file (no WAV or FLAC header: starts {head[:4]!r})")


def _open(path) -> sf.SoundFile:
    """Open for reading after the checks every reader shares; AudioError otherwise."""
    p = Path(path)
    if not p.exists():
        raise AudioError(path, "no such file")
    if p.is_dir():
        raise AudioError(path, "is a directory, not an audio file")
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise AudioError(path, f"cannot open ({e.strerror or e})") from e
    if not head:
        raise AudioError(path, "empty (0 bytes)")
    _sniff(path, head)
    try:
        f = sf.SoundFile(p)
    except Exception as e:  # libsndfile's many ways of saying no
        raise AudioError(path, f"not a readable audio file ({_reason(e)})") from e
    try:
        fmt, sr, ch = str(f.format), int(f.samplerate), int(f.channels)
        if fmt not in INPUT_FORMATS:
            raise AudioError(path, f"{fmt} is not supported (WAV or FLAC only)")
        if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
            raise AudioError(
                path, f"sample rate {sr} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz "
                "(a damaged header?)",
            )
        if not 1 <= ch <= MAX_CHANNELS:
            raise AudioError(path, f"{ch} channels; 1 to {MAX_CHANNELS} are enhanced "
                             "(a damaged header?)")
    except BaseException:
        f.close()
        raise
    return f


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    text = text[0] if text else type(e).__name__
    return text.removeprefix("Error : ").strip() or type(e).__name__


def probe_audio(path: str | os.PathLike) -> AudioInfo:
    """Check a file's header without decoding it.

    Raises:
        AudioError: missing, a directory, not WAV/FLAC (MP3 and Ogg are named
            as such), unreadable, a sample rate outside
            [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE] or more than MAX_CHANNELS channels.
    """
    with _open(path) as f:
        frames = int(f.frames)
        return AudioInfo(
            sample_rate=int(f.samplerate), channels=int(f.channels), subtype=str(f.subtype),
            format=str(f.format), frames=frames if 0 < frames < _UNKNOWN_FRAMES else None,
        )


def iter_audio_blocks(path: str | os.PathLike, block: int = READ_BLOCK) -> Iterator[np.ndarray]:
    """Decode a file block by block: float32 ``[m, channels]``, 0 < m <= block.

    Frames are counted by decoding, never taken from the header, so a FLAC of
    unknown length reads in full and a header that over-claims cannot pad the
    result. Every decoding error becomes an :class:`AudioError` naming the
    file; so do NaN/inf samples. An empty or undecodable file yields nothing
    (callers decide that this is an error).
    """
    with _open(path) as f:
        channels = int(f.channels)
        buf = np.empty((block, channels), np.float32)
        ptr = _ffi.cast("float *", buf.ctypes.data)
        while True:
            # The plain C call: soundfile's read() asks libsndfile for the
            # position first, which fails for a FLAC of unknown length.
            try:
                n = int(_snd.sf_readf_float(f._file, ptr, block))
                err = int(_snd.sf_error(f._file))
                msg = _ffi.string(_snd.sf_strerror(f._file)).decode(errors="replace") if err else ""
            except Exception as e:
                raise AudioError(path, f"cannot decode ({_reason(e)})") from e
            if err:
                raise AudioError(path, f"cannot decode ({_reason(RuntimeError(msg))})")
            if n <= 0:
                return
            data = buf[:n]
            if not np.all(np.isfinite(data)):
                raise AudioError(path, "contains NaN or infinite samples")
            yield data.copy()
            if n < block:
                return


def read_audio(path: str | os.PathLike) -> AudioData:
    """Decode an audio file with soundfile.

    Returns:
        :class:`AudioData` with float32 samples ``[n_samples, n_channels]``.

    Raises:
        AudioError: the path is missing or a directory, the file is not a
            readable WAV/FLAC file (see :func:`probe_audio`), cannot be decoded,
            holds no samples, or holds NaN/inf samples (possible in float WAVs).
    """
    info = probe_audio(path)
    blocks = list(iter_audio_blocks(path))
    if not blocks:
        raise AudioError(path, "empty (no decodable samples)")
    samples = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    return AudioData(samples=samples, sample_rate=info.sample_rate, subtype=info.subtype,
                     format=info.format)


def output_format(
    path: str | os.PathLike, subtype: str | None = None, like: str | None = None
) -> tuple[str, str]:
    """The container and subtype to write ``path`` with.

    The container follows the extension (``.wav`` or ``.flac``); ``like``, the
    input's container, is kept when it is a variant of the same one (WAVEX,
    RF64 stay so in a ``.wav``). ``subtype`` is kept when the container can
    store it, else the nearest it can: FLAC has no float samples, so float
    and 32-bit input goes to PCM_24.

    Raises:
        AudioError: any other extension (MP3, Ogg and the rest are named).
    """
    ext = Path(path).suffix.lower()
    if ext == ".wav":
        fmt = like if like in ("WAV", "WAVEX", "RF64") else "WAV"
    elif ext == ".flac":
        fmt = "FLAC"
    else:
        raise AudioError(
            path, f"cannot infer an audio format from the extension {Path(path).suffix!r}; "
            "use .wav or .flac, or pass format=",
        )
    if subtype is None:
        return fmt, sf.default_subtype(fmt)
    subtype = subtype.upper()
    if not sf.check_format(fmt, subtype):
        subtype = "PCM_24" if subtype in ("FLOAT", "DOUBLE", "PCM_32") else sf.default_subtype(fmt)
    return fmt, subtype


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
        format, _ = output_format(target)
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
        with atomic_path(target) as tmp:
            # The temp name ends in .tmp, so the format must be given explicitly.
            sf.write(tmp, data, int(sample_rate), subtype=subtype, format=format)
    except (sf.SoundFileError, OSError, RuntimeError) as e:
        raise write_error(path, e) from e


def write_error(path: str | os.PathLike, err: BaseException) -> AudioError:
    """The one-line :class:`AudioError` for a failed write of ``path``: the folder
    is not writable, or the write itself failed (full disk, a format that cannot
    hold the data, ...)."""
    folder = Path(path).parent
    if isinstance(err, OSError) and not os.access(folder, os.W_OK):
        return AudioError(path, f"cannot write in {folder} ({err})")
    return AudioError(path, f"could not write audio ({err})")


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
