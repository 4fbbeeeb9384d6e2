"""Representative data for int8 calibration: real audio through the real front end.

A :class:`CalibrationSet` holds model inputs exactly as the
:class:`~imse_keras.enhance.Enhancer` produces them at inference, through the
same :meth:`imse_keras.frontend.FrontEnd.segment_features`: per-file RMS
normalisation, 30,700-sample segments (the last one flush with the end of the
file, a short file zero-padded), the STFT, ``|X| ** 0.3`` and the phase, frames
first ``[T, F]`` (the layout of the model and the export graph). Calibrating on
anything else (random numbers, unnormalised audio) gives int8 ranges that do not
fit what the model sees on a phone.

Sources: a folder of WAV/FLAC files (searched recursively), or
:func:`synthesize_calibration_audio` (eSpeak NG speech mixed with synthetic
noise and optional noise recordings), for when no recordings are at hand.

Layouts: ``mag_c``, ``pha`` float32 ``[N, T, F]`` (N segments).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imse_keras.audio_io import AUDIO_EXTENSIONS, AudioError, read_audio, resample
from imse_keras.config import IMSEConfig, get_config
from imse_keras.frontend import FrontEnd

__all__ = [
    "CalibrationSet",
    "CalibrationError",
    "segment_features",
    "calibration_from_waveforms",
    "calibration_from_dir",
    "synthesize_calibration_audio",
    "SYNTH_NOISES",
    "SYNTH_SNRS_DB",
]

#: Synthetic noise kinds :func:`synthesize_calibration_audio` cycles through.
SYNTH_NOISES = ("babble", "white", "pink", "brown", "hum")
#: SNRs (dB) it cycles through: the range of VoiceBank+DEMAND and a bit beyond.
SYNTH_SNRS_DB = (0.0, 5.0, 10.0, 15.0, 20.0)


class CalibrationError(ValueError):
    """No usable calibration data (empty folder, unreadable files, count < 1)."""


@dataclass(frozen=True)
class CalibrationSet:
    """Model inputs for calibration, ``[N, T, F]`` each.

    Attributes:
        mag_c: compressed magnitudes.
        pha: phases, radians.
        info: where the data came from (source, files, seed, segment counts),
            written into the export's contract.
    """

    mag_c: np.ndarray
    pha: np.ndarray
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.mag_c.shape != self.pha.shape or self.mag_c.ndim != 3 or len(self.mag_c) == 0:
            raise CalibrationError(
                "mag_c and pha must be non-empty [N, T, F] arrays of one shape. Received: "
                f"{self.mag_c.shape} and {self.pha.shape}"
            )

    def __len__(self) -> int:
        return int(self.mag_c.shape[0])

    def representative_dataset(self) -> Iterator[dict[str, np.ndarray]]:
        """One ``{"mag_c": [1, T, F], "pha": [1, T, F]}`` dict per segment, as the
        TFLite converter's ``representative_dataset`` wants them."""
        for i in range(len(self)):
            yield {"mag_c": self.mag_c[i : i + 1], "pha": self.pha[i : i + 1]}


def segment_features(x: np.ndarray, config: IMSEConfig | str = "imse") -> tuple[np.ndarray, np.ndarray]:
    """The network inputs of one 16 kHz mono waveform, segment by segment.

    :meth:`imse_keras.frontend.FrontEnd.segment_features` of ``config``'s front
    end: the steps of :meth:`imse_keras.enhance.Enhancer.enhance_waveform`.

    Returns:
        ``(mag_c, pha)``, float32 ``[num_segments, T, F]``.
    """
    return FrontEnd.from_config(config).segment_features(x)


def _pick(n_total: int, count: int, seed: int) -> np.ndarray:
    """``count`` distinct indices of ``n_total`` (all of them if fewer), sorted."""
    if n_total <= count:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=count, replace=False))


def calibration_from_waveforms(
    waveforms: Sequence[np.ndarray],
    config: IMSEConfig | str = "imse",
    count: int = 128,
    seed: int = 0,
    info: dict | None = None,
) -> CalibrationSet:
    """Segment features of 16 kHz waveforms, at most ``count`` segments.

    When the waveforms give more segments than ``count``, a seeded random
    subset is kept. Silent waveforms are skipped (all-zero input carries no
    range information).

    Raises:
        CalibrationError: ``count < 1`` or no non-silent waveform.
    """
    if count < 1:
        raise CalibrationError(f"count must be >= 1. Received: count={count}")
    mags, phas = [], []
    for x in waveforms:
        x = np.asarray(x, dtype=np.float32)
        if x.size == 0 or not np.any(x):
            continue
        m, p = segment_features(x, config)
        mags.append(m)
        phas.append(p)
    if not mags:
        raise CalibrationError("no non-silent audio to calibrate on")
    mag_c, pha = np.concatenate(mags), np.concatenate(phas)
    keep = _pick(len(mag_c), count, seed)
    meta = dict(info or {})
    meta.update({"segments_available": int(len(mag_c)), "segments_used": int(len(keep)),
                 "seed": int(seed)})
    return CalibrationSet(mag_c[keep], pha[keep], meta)


def _find_audio_recursive(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith(".")
    )


def calibration_from_dir(
    directory: str | os.PathLike,
    config: IMSEConfig | str = "imse",
    count: int = 128,
    seed: int = 0,
) -> CalibrationSet:
    """Calibration data from every WAV/FLAC file under ``directory`` (recursive).

    Files are read as mono (channels averaged) and resampled to the model's rate.

    Raises:
        CalibrationError: the folder is missing or holds no readable audio.
    """
    cfg = get_config(config)
    root = Path(directory)
    if not root.is_dir():
        raise CalibrationError(f"calibration folder not found: {root}")
    files = _find_audio_recursive(root)
    if not files:
        raise CalibrationError(f"no .wav or .flac files under {root}")
    waves = []
    for path in files:
        try:
            audio = read_audio(path)
        except AudioError as err:
            raise CalibrationError(str(err)) from err
        waves.append(resample(audio.samples.mean(axis=1), audio.sample_rate, cfg.sampling_rate))
    info = {"source": str(root), "files": len(files)}
    return calibration_from_waveforms(waves, cfg, count=count, seed=seed, info=info)


def synthesize_calibration_audio(
    num_files: int,
    seed: int = 1000,
    noises: Sequence[str | os.PathLike] = SYNTH_NOISES,
    snrs_db: Sequence[float] = SYNTH_SNRS_DB,
) -> tuple[list[np.ndarray], list[dict]]:
    """Noisy synthetic utterances (eSpeak NG) for calibration, 4-6 s each.

    File ``i`` uses seed ``seed + i``, noise ``noises[i % len(noises)]`` (a
    kind of :data:`imse_keras.synth.NOISE_TYPES` or a recording's path) and SNR
    ``snrs_db[(i // len(noises)) % len(snrs_db)]``, so every noise meets every
    SNR once ``num_files >= len(noises) * len(snrs_db)``.

    Returns:
        ``(noisy_waveforms, descriptions)``; 16 kHz float32, and one
        ``{"seed", "noise", "snr_db"}`` per file.

    Raises:
        imse_keras.synth.SynthesisError: eSpeak NG (the ``demo`` extra) is missing.
    """
    from imse_keras.synth import make_pair

    if num_files < 1:
        raise CalibrationError(f"num_files must be >= 1. Received: num_files={num_files}")
    waves, described = [], []
    for i in range(num_files):
        noise = noises[i % len(noises)]
        snr = float(snrs_db[(i // len(noises)) % len(snrs_db)])
        _, noisy = make_pair(seed=seed + i, snr_db=snr, noise=noise)
        waves.append(noisy)
        described.append({"seed": seed + i, "noise": Path(noise).name if os.sep in str(noise)
                          else str(noise), "snr_db": snr})
    return waves, described
