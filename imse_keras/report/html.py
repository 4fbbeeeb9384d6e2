"""A self-contained HTML report of one enhancement run.

For each file: noisy / enhanced / clean spectrograms in one figure on one
colour scale, the metrics of the noisy input and of the output, and
``<audio>`` players. Images and audio are embedded as base64 ``data:`` URIs
(the page is one file that can be mailed or archived); the PNGs are also
written beside it.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["ReportItem", "build_report", "report_dirs", "wav_bytes"]

_SR = 16000
# Metrics shown per file, in order: (key, label, format).
_SHOWN = (
    ("pesq", "PESQ-WB", "{:.2f}"),
    ("stoi", "STOI", "{:.3f}"),
    ("si_sdr", "SI-SDR dB", "{:.1f}"),
    ("csig", "CSIG", "{:.2f}"),
    ("cbak", "CBAK", "{:.2f}"),
    ("covl", "COVL", "{:.2f}"),
    ("ovrl", "DNSMOS OVRL", "{:.2f}"),
    ("sig", "DNSMOS SIG", "{:.2f}"),
    ("bak", "DNSMOS BAK", "{:.2f}"),
)


@dataclass
class ReportItem:
    """One file of the report.

    Attributes:
        name: file name shown as the section title.
        noisy, enhanced: ``[n]`` float32 at 16 kHz.
        clean: ``[n]`` float32 at 16 kHz, or ``None`` without a reference.
        metrics: ``{"noisy": {...}, "enhanced": {...}}`` scores to show.
    """

    name: str
    noisy: np.ndarray
    enhanced: np.ndarray
    clean: np.ndarray | None = None
    metrics: dict = field(default_factory=dict)


def wav_bytes(x: np.ndarray, sr: int = _SR) -> bytes:
    """16-bit PCM WAV of a float signal (clipped to [-1, 1])."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(x, np.float32), -1.0, 1.0), sr, subtype="PCM_16",
             format="WAV")
    return buf.getvalue()


def _data_uri(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(payload).decode("ascii")


def _fmt(v, fmt: str) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return "-" if math.isnan(f) else fmt.format(f)


def _safe_stem(name: str, index: int) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(name).stem)
    return f"{index:03d}_{stem or 'file'}"


def _metrics_table(metrics: dict) -> str:
    systems = [k for k in ("noisy", "enhanced") if metrics.get(k)]
    if not systems:
        return "<p class=note>no scores</p>"
    keys = [(k, lab, f) for k, lab, f in _SHOWN if any(k in metrics[s] for s in systems)]
    head = "".join(f"<th>{html.escape(lab)}</th>" for _, lab, _ in keys)
    rows = "".join(
        f"<tr><th>{s}</th>" + "".join(f"<td>{_fmt(metrics[s].get(k), f)}</td>" for k, _, f in keys)
        + "</tr>"
        for s in systems
    )
    return f"<table><tr><th></th>{head}</tr>{rows}</table>"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
h1{font-size:1.5em} h2{font-size:1.1em;margin-top:2em;border-top:1px solid #ccc;padding-top:1em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:2px 8px;
text-align:right;font-size:.9em} img{max-width:100%} .players{display:flex;gap:1em;flex-wrap:wrap}
.players figure{margin:0} figcaption{font-size:.85em;color:#555} .note{color:#666;font-size:.9em}
"""


def build_report(items: Sequence[ReportItem], out_dir: str | os.PathLike,
                 title: str = "IMSE enhancement report", summary: dict | None = None,
                 notes: Sequence[str] = ()) -> Path:
    """Write ``out_dir/index.html`` (self-contained) and ``out_dir/*.png``.

    Args:
        items: the files, in page order.
        out_dir: created if missing.
        title: page title.
        summary: optional ``{"noisy": mean, "enhanced": mean}`` shown at the top.
        notes: lines shown under the title (system, weights, settings).

    Returns:
        The path of ``index.html``.

    Raises:
        MissingExtraError: matplotlib (the ``report`` extra) is not installed.
        ValueError: ``items`` is empty.
    """
    from imse_keras.atomic import write_text_atomic
    from imse_keras.report.plots import _pyplot, pesq_scatter_figure, spectrogram_figure

    if not items:
        raise ValueError("no files to report")
    plt = _pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def save(fig, name: str) -> str:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        png = buf.getvalue()
        (out / name).write_bytes(png)
        return _data_uri("image/png", png)

    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    parts += [f"<p class=note>{html.escape(n)}</p>" for n in notes]
    if summary:
        parts.append("<h2 id=summary>Mean over all files</h2>" + _metrics_table(summary))
    pairs = [(it.name, it.metrics.get("noisy", {}).get("pesq"),
              it.metrics.get("enhanced", {}).get("pesq")) for it in items]
    if any(b is not None and a is not None for _, b, a in pairs):
        uri = save(pesq_scatter_figure([p[0] for p in pairs],
                                       [np.nan if p[1] is None else p[1] for p in pairs],
                                       [np.nan if p[2] is None else p[2] for p in pairs]),
                   "summary_pesq.png")
        parts.append(f"<h2>PESQ-WB before vs after</h2><img class=summary src='{uri}' "
                     "alt='PESQ before vs after'>")
    for i, it in enumerate(items):
        stem = _safe_stem(it.name, i)
        signals = [("noisy", it.noisy), ("enhanced", it.enhanced)]
        if it.clean is not None:
            signals.append(("clean", it.clean))
        uri = save(spectrogram_figure(signals, title=it.name), f"{stem}.png")
        players = "".join(
            f"<figure><figcaption>{label}</figcaption><audio controls preload=metadata "
            f"src='{_data_uri('audio/wav', wav_bytes(x))}'></audio></figure>"
            for label, x in signals
        )
        parts.append(
            f"<h2 id='{stem}'>{html.escape(it.name)}</h2>"
            f"<div class=players>{players}</div>{_metrics_table(it.metrics)}"
            f"<img class=spec src='{uri}' alt='spectrograms of {html.escape(it.name)}'>"
        )
    parts.append("</body></html>\n")
    path = out / "index.html"
    write_text_atomic(path, "\n".join(parts))
    return path


def report_dirs(noisy_dir: str | os.PathLike, out_dir: str | os.PathLike,
                enhance: Callable[[np.ndarray], np.ndarray] | None = None,
                enhanced_dir: str | os.PathLike | None = None,
                clean_dir: str | os.PathLike | None = None, dnsmos: bool = False,
                limit: int | None = None, title: str = "IMSE enhancement report",
                notes: Sequence[str] = ()) -> Path:
    """Report on the files of ``noisy_dir``, enhanced by ``enhance`` or read from
    ``enhanced_dir`` (same names), scored against ``clean_dir`` when given.

    Args:
        limit: report only the first ``limit`` files (sorted by name).
        dnsmos: add DNSMOS scores (needs the ``quality`` extra).

    Returns:
        The path of ``index.html``.
    """
    from imse_keras.audio_io import AudioError, find_audio_files
    from imse_keras.metrics.evaluate import load_mono_16k
    from imse_keras.metrics import score_pair, summarize

    if (enhance is None) == (enhanced_dir is None):
        raise ValueError("give exactly one of `enhance` or `enhanced_dir`")
    noisy_files = find_audio_files([noisy_dir])[: limit or None]
    clean_map = {p.name: p for p in find_audio_files([clean_dir])} if clean_dir else {}
    enh_map = {p.name: p for p in find_audio_files([enhanced_dir])} if enhanced_dir else {}
    dnsmos_fn = None
    if dnsmos:
        from imse_keras.quality import dnsmos_scores

        dnsmos_fn = dnsmos_scores
    items = []
    for path in noisy_files:
        noisy = load_mono_16k(path)
        if enhance is not None:
            enhanced = np.asarray(enhance(noisy), np.float32)
        elif path.name in enh_map:
            enhanced = load_mono_16k(enh_map[path.name])
        else:
            raise AudioError(path, f"no enhanced file of that name in {enhanced_dir}")
        clean = load_mono_16k(clean_map[path.name]) if path.name in clean_map else None
        metrics = {"noisy": {}, "enhanced": {}}
        for key, x in (("noisy", noisy), ("enhanced", enhanced)):
            if clean is not None:
                metrics[key].update(score_pair(clean, x, _SR))
            if dnsmos_fn is not None:
                metrics[key].update(dnsmos_fn(x))
        items.append(ReportItem(path.name, noisy, enhanced, clean, metrics))
    summary = {k: summarize([it.metrics[k] for it in items]) for k in ("noisy", "enhanced")
               if all(it.metrics[k] for it in items)}
    return build_report(items, out_dir, title=title, summary=summary or None, notes=notes)
