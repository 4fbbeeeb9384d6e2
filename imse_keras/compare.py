"""Side-by-side comparison: every system enhances the same files, one table.

Per system: mean PESQ-WB, STOI, SI-SDR, CSIG/CBAK/COVL against the clean
reference, DNSMOS OVRL of the output (when the ``quality`` extra is
installed), the real-time factor measured here (processing seconds per second
of audio, after one warm-up call so graph tracing is not counted) and the
model size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imse_keras.evaluation import SCORING_RATE, load_mono_16k
from imse_keras.metrics import score_pair, summarize
from imse_keras.peers.base import Peer

__all__ = ["SystemResult", "TABLE_COLUMNS", "compare_pairs", "format_compare_table"]

#: ``(key, header, format)`` of the table's metric columns.
TABLE_COLUMNS = (
    ("pesq", "PESQ-WB", "{:.3f}"),
    ("stoi", "STOI", "{:.3f}"),
    ("si_sdr", "SI-SDR dB", "{:.2f}"),
    ("csig", "CSIG", "{:.3f}"),
    ("cbak", "CBAK", "{:.3f}"),
    ("covl", "COVL", "{:.3f}"),
    ("dnsmos_ovrl", "DNSMOS OVRL", "{:.3f}"),
)


@dataclass
class SystemResult:
    """One system's scores on a set of files.

    Attributes:
        name: the peer's name.
        rows: per file, ``file`` plus every metric (and ``dnsmos_*`` when run).
        mean: :func:`imse_keras.metrics.summarize` of ``rows``.
        process_seconds: wall time spent in ``enhance`` (scoring excluded).
        audio_seconds: duration of the audio enhanced.
        size_bytes, params, note: copied from the peer.
    """

    name: str
    rows: list[dict]
    mean: dict
    process_seconds: float
    audio_seconds: float
    size_bytes: int | None = None
    params: int | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rtf(self) -> float:
        """Real-time factor: processing time / audio time (< 1 is faster than real time)."""
        return self.process_seconds / self.audio_seconds if self.audio_seconds else float("nan")


def compare_pairs(
    pairs: Sequence[tuple[Path, Path]],
    peers: Sequence[Peer],
    dnsmos: bool = True,
    progress: bool = False,
    on_output: Callable[[str, Path, np.ndarray], None] | None = None,
) -> list[SystemResult]:
    """Enhance every ``(clean, noisy)`` pair with every peer and score it.

    Args:
        pairs: from :func:`imse_keras.evaluation.pair_files`.
        peers: the systems, in table order.
        dnsmos: also score DNSMOS of each output (needs the ``quality`` extra;
            raises :class:`~imse_keras.quality.MissingExtraError` when missing).
        progress: a progress bar per system.
        on_output: called as ``on_output(peer_name, noisy_path, enhanced_16k)``,
            e.g. to save the outputs.

    Returns:
        One :class:`SystemResult` per peer.
    """
    if not pairs:
        raise ValueError("no files to compare")
    dnsmos_fn = None
    if dnsmos:
        from imse_keras.quality import dnsmos_scores

        dnsmos_fn = dnsmos_scores
    signals = [(load_mono_16k(c), load_mono_16k(n), n) for c, n in pairs]
    results = []
    for peer in peers:
        # Warm-up on one second of the first file: graph tracing and library
        # loading are one-off costs, not part of the real-time factor.
        peer(signals[0][1][:SCORING_RATE])
        iterator = signals
        if progress:
            from tqdm import tqdm

            iterator = tqdm(signals, unit="file", desc=peer.name)
        rows, spent, audio = [], 0.0, 0.0
        for clean, noisy, noisy_path in iterator:
            start = time.perf_counter()
            y = peer(noisy)
            spent += time.perf_counter() - start
            audio += noisy.size / SCORING_RATE
            row = {"file": noisy_path.name, **score_pair(clean, y, SCORING_RATE)}
            if dnsmos_fn is not None:
                row.update({f"dnsmos_{k}": v for k, v in dnsmos_fn(y).items()})
            rows.append(row)
            if on_output is not None:
                on_output(peer.name, noisy_path, y)
        results.append(SystemResult(peer.name, rows, summarize(rows), spent, audio,
                                    peer.size_bytes, peer.params, peer.note))
    return results


def _size(result: SystemResult) -> str:
    if result.size_bytes is None:
        return "-"
    if result.size_bytes == 0:
        return "0"
    text = f"{result.size_bytes / 1e6:.2f} MB" if result.size_bytes >= 1e5 else \
        f"{result.size_bytes / 1e3:.1f} kB"
    if result.params:
        text += f" ({result.params:,} params)"
    return text


def format_compare_table(results: Sequence[SystemResult], skipped: dict[str, str] | None = None,
                         markdown: bool = True) -> str:
    """The comparison as a Markdown (or aligned plain-text) table.

    Columns are the means of :data:`TABLE_COLUMNS` (DNSMOS only when scored),
    ``RTF`` and ``size``; systems in ``skipped`` are listed below the table
    with their reason.
    """
    have_dnsmos = any("dnsmos_ovrl" in r.mean for r in results)
    cols = [c for c in TABLE_COLUMNS if c[0] != "dnsmos_ovrl" or have_dnsmos]
    header = ["system", *(h for _, h, _ in cols), "RTF", "size"]
    body = []
    for r in results:
        cells = [r.name]
        for key, _, fmt in cols:
            v = r.mean.get(key, float("nan"))
            cells.append("nan" if v is None or math.isnan(v) else fmt.format(v))
        cells += [f"{r.rtf:.3f}", _size(r)]
        body.append(cells)
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
    else:
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(row, widths))).rstrip()
                 for row in [header, *body]]
    if results:
        lines.append("")
        lines.append(f"{results[0].mean.get('n', 0)} file(s); RTF = processing time / audio "
                     "time on this machine, after a warm-up call.")
    for name, reason in (skipped or {}).items():
        lines.append(f"skipped {name}: {reason}")
    return "\n".join(lines)
