"""Reference-free speech quality: DNSMOS P.835 (SIG, BAK, OVRL) and P.808.

Runs the ONNX models shipped in the ``speechmos`` wheel; it needs
``onnxruntime`` and ``librosa``, which ``speechmos`` does not declare. All three
come with the ``quality`` extra and are imported on first use, so importing this
module is cheap and works without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from imse_keras.quality.extras import MissingExtraError, require

__all__ = [
    "DNSMOS_KEYS",
    "EXTRA",
    "dnsmos_available",
    "dnsmos_scores",
    "evaluate_no_reference",
]

#: The pip extra that installs DNSMOS's dependencies.
EXTRA = "quality"

#: Keys of :func:`dnsmos_scores`, in table order.
DNSMOS_KEYS = ("sig", "bak", "ovrl", "p808")

_SR = 16000


def _dnsmos_module():
    # onnxruntime and librosa first: speechmos imports them at module level and
    # would otherwise report its own name instead of the missing dependency.
    require("onnxruntime", EXTRA)
    require("librosa", EXTRA)
    return require("speechmos.dnsmos", EXTRA)


def dnsmos_available() -> tuple[bool, str]:
    """``(True, "")`` when DNSMOS can run, else ``(False, reason)``."""
    try:
        _dnsmos_module()
    except MissingExtraError as err:
        return False, str(err)
    return True, ""


def dnsmos_scores(x: np.ndarray, sample_rate: int = _SR) -> dict[str, float]:
    """DNSMOS of one utterance.

    Args:
        x: ``[n]`` float waveform at 16 kHz (values outside [-1, 1] are clipped,
            as DNSMOS rejects them). Utterances shorter than the model's 9.01 s
            window are repeated to fill it, as in the reference implementation.
        sample_rate: must be 16000.

    Returns:
        ``{"sig", "bak", "ovrl", "p808"}``: P.835 speech, background and overall
        MOS and the P.808 MOS, each on a 1-5 scale.

    Raises:
        MissingExtraError: ``speechmos``, ``onnxruntime`` or ``librosa`` is missing.
        ValueError: wrong rate, not 1-D, empty or non-finite.
    """
    if sample_rate != _SR:
        raise ValueError(f"DNSMOS needs 16 kHz audio. Received: sample_rate={sample_rate}")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"Expected a non-empty 1-D waveform. Received: shape={x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("The waveform has NaN or infinite samples.")
    dnsmos = _dnsmos_module()
    out = dnsmos.run(np.clip(x, -1.0, 1.0), sr=_SR)
    return {
        "sig": float(out["sig_mos"]),
        "bak": float(out["bak_mos"]),
        "ovrl": float(out["ovrl_mos"]),
        "p808": float(out["p808_mos"]),
    }


def evaluate_no_reference(
    paths: Iterable[str | os.PathLike], progress: bool = False
) -> tuple[list[dict], dict]:
    """DNSMOS of every audio file in ``paths`` (files and folders).

    Files are read as 16 kHz mono (channels averaged, other rates resampled).

    Returns:
        ``(rows, mean)``: one ``{"file", "sig", "bak", "ovrl", "p808"}`` per file
        and their means from :func:`imse_keras.metrics.summarize`.

    Raises:
        MissingExtraError: the ``quality`` extra is not installed (checked
            before any file is read).
        imse_keras.audio_io.AudioError: a path is missing, empty or not audio.
    """
    from imse_keras.audio_io import AudioError, find_audio_files
    from imse_keras.metrics.evaluate import load_mono_16k
    from imse_keras.metrics import summarize

    _dnsmos_module()
    files: list[Path] = find_audio_files(list(paths))
    iterator = files
    if progress and len(files) > 1:
        from tqdm import tqdm

        iterator = tqdm(files, unit="file", desc="DNSMOS")
    rows = []
    for path in iterator:
        x = load_mono_16k(path)
        try:
            scores = dnsmos_scores(x)
        except ValueError as err:
            raise AudioError(path, str(err)) from err
        rows.append({"file": path.name, **scores})
    return rows, summarize(rows)
