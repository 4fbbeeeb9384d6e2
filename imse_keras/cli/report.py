"""``imse report``: a self-contained HTML page of spectrograms, scores and players.

A thin click wrapper over :func:`imse_keras.report.report_dirs`. ``-o`` is a
folder (``index.html`` and its PNGs).
"""

from __future__ import annotations

from pathlib import Path

import click

from imse_keras.cli.compare import limit_option as _limit_option
from imse_keras.cli.options import (
    Command,
    download_option as _download_option,
    fail as _fail,
    is_file_target,
    load_model_or_exit,
    overlap_option as _overlap_option,
    preset_option as _preset_option,
    threads_option as _threads_option,
    weights_option as _weights_option,
)

__all__ = ["report"]


@click.command(cls=Command)
@click.option("--noisy", required=True, type=click.Path(path_type=Path),
              help="Directory (or file) of noisy recordings.")
@click.option("--clean", type=click.Path(path_type=Path), default=None,
              help="Directory of clean references (same names): adds PESQ, STOI, ... and the "
              "clean spectrogram.")
@click.option("--enhanced", type=click.Path(path_type=Path), default=None,
              help="Directory of already enhanced files (same names); default: enhance "
              "with IMSE now.")
@click.option("--output", "-o", required=True, type=click.Path(),
              help="Folder for index.html and the PNGs (created if missing).")
@_weights_option
@_preset_option
@_overlap_option
@_threads_option
@_download_option
@click.option("--dnsmos/--no-dnsmos", default=False, show_default=True,
              help="Add DNSMOS scores (needs the `quality` extra).")
@_limit_option
def report(noisy, clean, enhanced, output, weights, preset, overlap, threads, download, dnsmos,
           limit):
    """Write a self-contained HTML page: per file noisy / enhanced / clean
    spectrograms on one colour scale, metrics and audio players, plus a PESQ
    before-vs-after plot."""
    if is_file_target(output):
        raise click.UsageError(f"-o {output}: a report is a folder (index.html and its PNGs); "
                               "give a folder name")
    from imse_keras.audio_io import AudioError
    from imse_keras.quality import MissingExtraError
    from imse_keras.report import report_dirs

    enhance, notes = None, []
    if enhanced is None:
        model = load_model_or_exit(weights, preset, threads, download)
        from imse_keras.enhance import Enhancer

        enhance = Enhancer.from_model(model, preset, overlap=overlap).enhance_waveform
        notes.append(f"enhanced with IMSE Keras (weights {weights or 'default'}, preset {preset}, "
                     f"overlap {overlap})")
    else:
        notes.append(f"enhanced files from {enhanced}")
    try:
        path = report_dirs(noisy, output, enhance=enhance, enhanced_dir=enhanced, clean_dir=clean,
                           dnsmos=dnsmos, limit=limit, notes=notes)
    except MissingExtraError as err:
        raise _fail(str(err)) from err
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err
    click.echo(f"report -> {path}")
