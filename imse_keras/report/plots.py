"""Figures for the report: spectrograms on one colour scale, PESQ before vs after.

Needs matplotlib (the ``report`` extra); it is imported on first use with the
non-interactive Agg backend, so no display is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import stft

from imse_keras.quality.extras import require

__all__ = ["EXTRA", "log_spectrogram", "spectrogram_figure", "pesq_scatter_figure"]

#: The pip extra that installs matplotlib.
EXTRA = "report"

_SR = 16000
_DYNAMIC_RANGE_DB = 80.0


def _pyplot():
    matplotlib = require("matplotlib", EXTRA)
    matplotlib.use("Agg", force=False)
    return require("matplotlib.pyplot", EXTRA)


def log_spectrogram(x: np.ndarray, sr: int = _SR, n_fft: int = 512, hop: int = 128):
    """``(freqs [F] Hz, times [T] s, power dB [F, T])`` of a 1-D signal (Hann window)."""
    f, t, z = stft(np.asarray(x, np.float64), fs=sr, nperseg=n_fft, noverlap=n_fft - hop)
    return f, t, 10.0 * np.log10(np.abs(z) ** 2 + 1e-12)


def spectrogram_figure(signals: Sequence[tuple[str, np.ndarray]], title: str = "", sr: int = _SR):
    """One figure, one row per ``(label, signal)``, all on the same dB colour scale.

    The scale spans the loudest bin of all signals down by 80 dB, so a quieter
    output looks quieter, not re-normalised.
    """
    plt = _pyplot()
    specs = [(label, *log_spectrogram(x, sr)) for label, x in signals]
    vmax = max(float(s.max()) for _, _, _, s in specs)
    vmin = vmax - _DYNAMIC_RANGE_DB
    fig, axes = plt.subplots(len(specs), 1, figsize=(9, 2.1 * len(specs) + 0.6), sharex=True,
                             squeeze=False, constrained_layout=True)
    image = None
    for ax, (label, f, t, s) in zip(axes[:, 0], specs):
        image = ax.pcolormesh(t, f / 1000.0, s, vmin=vmin, vmax=vmax, cmap="magma",
                              shading="auto", rasterized=True)
        ax.set_ylabel("kHz")
        ax.set_title(label, loc="left", fontsize=10)
    axes[-1, 0].set_xlabel("time (s)")
    fig.colorbar(image, ax=axes[:, 0].tolist(), label="power (dB)", shrink=0.9)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def pesq_scatter_figure(names: Sequence[str], before: Sequence[float], after: Sequence[float],
                        label_after: str = "enhanced"):
    """PESQ-WB of each file before (noisy) vs after (enhanced), with the y = x line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 5.0), constrained_layout=True)
    b, a = np.asarray(before, float), np.asarray(after, float)
    ax.plot([1.0, 4.65], [1.0, 4.65], color="0.6", lw=1, ls="--", label="no change")
    ax.scatter(b, a, s=28, color="tab:blue", zorder=3)
    if len(names) <= 30:
        for name, x, y in zip(names, b, a):
            ax.annotate(name, (x, y), fontsize=6, xytext=(3, 2), textcoords="offset points")
    ax.set_xlim(1.0, 4.65)
    ax.set_ylim(1.0, 4.65)
    ax.set_xlabel("PESQ-WB, noisy")
    ax.set_ylabel(f"PESQ-WB, {label_after}")
    ok = ~(np.isnan(b) | np.isnan(a))
    if ok.any():
        ax.set_title(f"mean {b[ok].mean():.2f} -> {a[ok].mean():.2f} ({ok.sum()} files)",
                     fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return fig
