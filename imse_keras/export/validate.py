"""Validate an exported model against the float Keras model on real audio.

Both backends enhance every noisy file through the same
:class:`~imse_keras.enhance.Enhancer` (front end, segmentation, overlap);
each output is scored against the clean reference (PESQ-WB, STOI and the rest
of :func:`imse_keras.metrics.score_pair`), and the TFLite output is compared
with the float output directly (SNR in dB, the float output as the signal).

:func:`validate_model` returns a :class:`ValidationReport`;
:meth:`ValidationReport.check` raises :class:`ValidationError` when the mean
PESQ-WB drop exceeds the bound, so verification fails loudly.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "ValidationError",
    "ValidationReport",
    "DEFAULT_MAX_PESQ_DROP",
    "snr_db",
    "validate_model",
]

#: Default bound on the mean PESQ-WB loss of an export against the float model.
DEFAULT_MAX_PESQ_DROP = 0.05

# Per-file columns, in table order.
_COLUMNS = ("pesq_float", "pesq_tflite", "pesq_drop", "stoi_float", "stoi_tflite", "stoi_drop",
            "snr_db")


class ValidationError(AssertionError):
    """An export lost more quality against the float model than allowed."""


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """``10 log10(sum(ref^2) / sum((ref - test)^2))``; inf for identical signals."""
    reference = np.asarray(reference, np.float64)
    test = np.asarray(test, np.float64)
    n = min(len(reference), len(test))
    err = float(np.sum((reference[:n] - test[:n]) ** 2))
    sig = float(np.sum(reference[:n] ** 2))
    if err == 0.0:
        return math.inf
    if sig == 0.0:
        return -math.inf
    return 10.0 * math.log10(sig / err)


@dataclass
class ValidationReport:
    """Per-file and mean scores of a float and a TFLite backend.

    Attributes:
        rows: one dict per file: ``file``, :data:`_COLUMNS`, and the full
            ``float``/``tflite`` metric dicts.
        mean: means of the columns over files (NaN-ignoring), plus ``n``.
        max_pesq_drop: the bound.
        model: the ``.tflite`` path (or a label).
        settings: overlap mode, threads, weights, etc.
    """

    rows: list[dict]
    mean: dict
    max_pesq_drop: float
    model: str
    settings: dict = field(default_factory=dict)

    @property
    def pesq_drop(self) -> float:
        """Mean PESQ-WB of the float model minus that of the TFLite model."""
        return float(self.mean["pesq_drop"])

    @property
    def passed(self) -> bool:
        return bool(self.pesq_drop <= self.max_pesq_drop)

    def check(self) -> "ValidationReport":
        """Raise :class:`ValidationError` unless the mean PESQ drop is within bound."""
        if not self.passed:
            raise ValidationError(
                f"{self.model}: mean PESQ-WB drop {self.pesq_drop:.4f} exceeds the bound "
                f"{self.max_pesq_drop:.4f} (float {self.mean['pesq_float']:.4f}, "
                f"tflite {self.mean['pesq_tflite']:.4f}, {self.mean['n']} files)"
            )
        return self

    def table(self) -> str:
        """Plain-text table (per file and mean), via :func:`imse_keras.metrics.format_table`."""
        from imse_keras.metrics import format_table

        flat = [{"file": r["file"], **{k: r[k] for k in _COLUMNS}} for r in self.rows]
        return format_table(flat, self.mean)

    def summary_line(self) -> str:
        m = self.mean
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"{verdict}: mean PESQ-WB float {m['pesq_float']:.4f}, tflite {m['pesq_tflite']:.4f}, "
            f"drop {self.pesq_drop:+.4f} (bound {self.max_pesq_drop}); STOI drop "
            f"{m['stoi_drop']:+.4f}; SNR vs float {m['snr_db']:.1f} dB; {m['n']} files"
        )

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "passed": self.passed,
            "max_pesq_drop": self.max_pesq_drop,
            "mean": self.mean,
            "settings": self.settings,
            "files": self.rows,
        }

    def to_markdown(self) -> str:
        """A markdown report: settings, the verdict and a per-file table."""
        head = "| file | " + " | ".join(_COLUMNS) + " |"
        rule = "|---" * (len(_COLUMNS) + 1) + "|"

        def cells(d):
            return " | ".join(_fmt(d.get(k)) for k in _COLUMNS)

        lines = [
            f"# Validation of `{Path(self.model).name}` against the float Keras model",
            "",
            self.summary_line(),
            "",
            *(f"- {k}: {v}" for k, v in self.settings.items()),
            "",
            head,
            rule,
            *(f"| {r['file']} | {cells(r)} |" for r in self.rows),
            f"| **mean** | {cells(self.mean)} |",
            "",
        ]
        return "\n".join(lines)

    def write(self, stem: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<stem>.validation.json`` and ``<stem>.validation.md``."""
        from imse_keras.atomic import write_text_atomic

        stem = Path(stem)
        js = write_text_atomic(stem.with_name(stem.name + ".validation.json"),
                               json.dumps(self.to_dict(), indent=2, allow_nan=True) + "\n")
        md = write_text_atomic(stem.with_name(stem.name + ".validation.md"), self.to_markdown())
        return js, md


def _fmt(v) -> str:
    if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool):
        v = float(v)
        return "nan" if math.isnan(v) else ("inf" if math.isinf(v) else f"{v:.4f}")
    return str(v)


def _finite_mean(values) -> float:
    """Mean over finite values; +inf when every value is +inf (identical outputs)."""
    arr = np.array([float(v) for v in values], np.float64)
    if arr.size and np.all(arr == math.inf):
        return math.inf
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else float("nan")


def validate_model(
    pairs: list[tuple[Path, Path]],
    reference: Callable[[np.ndarray], np.ndarray],
    candidate: Callable[[np.ndarray], np.ndarray],
    *,
    max_pesq_drop: float = DEFAULT_MAX_PESQ_DROP,
    model: str = "model.tflite",
    settings: dict | None = None,
    progress: bool = False,
) -> ValidationReport:
    """Enhance and score every ``(clean, noisy)`` pair with both backends.

    Args:
        pairs: from :func:`imse_keras.metrics.evaluate.pair_files`.
        reference: the float model's waveform enhancer (``Enhancer.enhance_waveform``).
        candidate: the export's.
        max_pesq_drop: bound on the mean PESQ-WB drop, recorded in the report.
        model: label of the candidate (its path).
        settings: recorded in the report.
        progress: show a progress bar.

    Returns:
        The report; call :meth:`ValidationReport.check` to enforce the bound.

    Raises:
        imse_keras.audio_io.AudioError: unreadable files or unscorable pairs.
    """
    from imse_keras.audio_io import AudioError
    from imse_keras.metrics.evaluate import SCORING_RATE, load_pairs
    from imse_keras.metrics import score_pair

    if not pairs:
        raise ValueError("no (clean, noisy) pairs to validate on")
    rows = []
    for _, noisy_path, clean, noisy in load_pairs(pairs, progress, "validating"):
        y_ref = reference(noisy)
        y_cand = candidate(noisy)
        try:
            s_ref = score_pair(clean, y_ref, SCORING_RATE)
            s_cand = score_pair(clean, y_cand, SCORING_RATE)
        except ValueError as err:
            raise AudioError(noisy_path, str(err)) from err
        rows.append({
            "file": noisy_path.name,
            "pesq_float": s_ref["pesq"],
            "pesq_tflite": s_cand["pesq"],
            "pesq_drop": s_ref["pesq"] - s_cand["pesq"],
            "stoi_float": s_ref["stoi"],
            "stoi_tflite": s_cand["stoi"],
            "stoi_drop": s_ref["stoi"] - s_cand["stoi"],
            "snr_db": snr_db(y_ref, y_cand),
            "float": s_ref,
            "tflite": s_cand,
        })
    mean = {k: _finite_mean(r[k] for r in rows) for k in _COLUMNS}
    mean["n"] = len(rows)
    return ValidationReport(rows, mean, float(max_pesq_drop), str(model), dict(settings or {}))
