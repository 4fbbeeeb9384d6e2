"""Side-by-side comparison: every system enhances the same files, one table.

Per system: mean PESQ-WB, STOI, SI-SDR, CSIG/CBAK/COVL against the clean
reference, DNSMOS OVRL of the output (when the ``quality`` extra is
installed), the cost (GMAC per second of audio, parameters, algorithmic
latency) and the real-time factor measured here, after one warm-up call so
graph tracing is not counted: as CPU time of this process (robust to other
load on the machine) and as wall time.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imse_keras.metrics.evaluate import SCORING_RATE, load_mono_16k
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
        size_bytes, params, note, macs_per_second, latency_ms: copied from the peer.
        cpu_seconds: CPU time of this process (all its threads) in ``enhance``.
        load_average: the 1-minute load average after the system ran.
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
    macs_per_second: float | None = None
    latency_ms: float | None = None
    cpu_seconds: float = float("nan")
    load_average: float | None = None

    @property
    def rtf(self) -> float:
        """Real-time factor: processing time / audio time (< 1 is faster than real time)."""
        return self.process_seconds / self.audio_seconds if self.audio_seconds else float("nan")

    @property
    def cpu_rtf(self) -> float:
        """CPU seconds (all threads) per second of audio: the compute, whatever else runs."""
        return self.cpu_seconds / self.audio_seconds if self.audio_seconds else float("nan")


def compare_pairs(
    pairs: Sequence[tuple[Path, Path]],
    peers: Sequence[Peer],
    dnsmos: bool = True,
    progress: bool = False,
    on_output: Callable[[str, Path, np.ndarray], None] | None = None,
) -> list[SystemResult]:
    """Enhance every ``(clean, noisy)`` pair with every peer and score it.

    Args:
        pairs: from :func:`imse_keras.metrics.evaluate.pair_files`.
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
        rows, spent, cpu, audio = [], 0.0, 0.0, 0.0
        for clean, noisy, noisy_path in iterator:
            start, start_cpu = time.perf_counter(), time.process_time()
            y = peer(noisy)
            spent += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            audio += noisy.size / SCORING_RATE
            row = {"file": noisy_path.name, **score_pair(clean, y, SCORING_RATE)}
            if dnsmos_fn is not None:
                row.update({f"dnsmos_{k}": v for k, v in dnsmos_fn(y).items()})
            rows.append(row)
            if on_output is not None:
                on_output(peer.name, noisy_path, y)
        results.append(SystemResult(peer.name, rows, summarize(rows), spent, audio,
                                    peer.size_bytes, peer.params, peer.note,
                                    macs_per_second=peer.macs_per_second,
                                    latency_ms=peer.latency_ms, cpu_seconds=cpu,
                                    load_average=_load_average()))
    return results


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return None


def _size(result: SystemResult) -> str:
    if result.size_bytes is None:
        return "-"
    if result.size_bytes == 0:
        return "0"
    return f"{result.size_bytes / 1e6:.2f} MB" if result.size_bytes >= 1e5 else \
        f"{result.size_bytes / 1e3:.1f} kB"


def _params(result: SystemResult) -> str:
    if result.params is None:
        return "-"
    return f"{result.params / 1e3:.1f} K" if result.params else "0"


def _gmacs(result: SystemResult) -> str:
    m = result.macs_per_second
    if m is None:
        return "-"
    return "0" if m == 0 else f"{m / 1e9:.3f}" if m < 1e9 else f"{m / 1e9:.2f}"


def _latency(result: SystemResult) -> str:
    ms = result.latency_ms
    if ms is None:
        return "file"
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def format_compare_table(results: Sequence[SystemResult], skipped: dict[str, str] | None = None,
                         markdown: bool = True, notes: bool = False) -> str:
    """The comparison as a Markdown (or aligned plain-text) table.

    Columns are the means of :data:`TABLE_COLUMNS` (DNSMOS only when scored),
    then ``GMAC/s`` (per second of audio), ``params``, ``latency``
    (algorithmic; ``file`` for whole-file systems), ``RTF CPU``, ``RTF wall``
    and ``size``. Systems in ``skipped`` are listed below the table with
    their reason, and with ``notes`` each system's note (how it was run).
    """
    have_dnsmos = any("dnsmos_ovrl" in r.mean for r in results)
    cols = [c for c in TABLE_COLUMNS if c[0] != "dnsmos_ovrl" or have_dnsmos]
    header = ["system", *(h for _, h, _ in cols), "GMAC/s", "params", "latency", "RTF CPU",
              "RTF wall", "size"]
    body = []
    for r in results:
        cells = [r.name]
        for key, _, fmt in cols:
            v = r.mean.get(key, float("nan"))
            cells.append("nan" if v is None or math.isnan(v) else fmt.format(v))
        cells += [_gmacs(r), _params(r), _latency(r), f"{r.cpu_rtf:.3f}", f"{r.rtf:.3f}",
                  _size(r)]
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
        lines.append(f"{results[0].mean.get('n', 0)} file(s). RTF CPU = CPU seconds of the "
                     "process (all threads) per second of audio; RTF wall = elapsed time per "
                     "second of audio; both after a warm-up call." + _contention(results))
    if notes:
        lines.append("")
        lines += [f"- `{r.name}`: {r.note}" for r in results if r.note]
    for name, reason in (skipped or {}).items():
        lines.append(f"skipped {name}: {reason}")
    return "\n".join(lines)


def _contention(results: Sequence[SystemResult]) -> str:
    loads = [r.load_average for r in results if r.load_average is not None]
    cores = os.cpu_count() or 1
    if not loads or max(loads) <= cores:
        return ""
    return (f" Measured under contention (1-min load average up to {max(loads):.1f} on "
            f"{cores} cores): wall RTFs are upper bounds, CPU RTFs the comparable figure.")
