"""``imse evaluate``: score files against clean references, or without one.

With ``--clean``: PESQ-WB, STOI, SI-SDR, CSIG/CBAK/COVL and SSNR of
``--enhanced`` files (or of ``--noisy`` files enhanced on the fly). Without
``--clean``: DNSMOS (reference-free) of the ``--enhanced`` files; the mode is
printed on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from imse_keras.cli.options import (
    Command,
    download_option,
    fail,
    legacy_report_options,
    load_model_or_exit,
    model_option,
    overlap_option,
    preset_option,
    quiet_option,
    report_output_option,
    report_targets,
    threads_option,
    tflite_enhancer_or_exit,
    weights_option,
    write_reports,
)

__all__ = ["evaluate", "run_no_reference"]


def _json(payload: dict) -> str:
    return json.dumps(payload, indent=2, allow_nan=True) + "\n"


def run_no_reference(paths, json_path: Path | None = None, quiet: bool = False,
                     targets: dict | None = None) -> tuple[list, dict]:
    """Reference-free scoring: DNSMOS per file and mean.

    Prints the table to stdout and writes ``json_path`` (and ``targets``, see
    :func:`imse_keras.cli.options.report_targets`) when given. Raises
    :class:`click.ClickException` (one line) when the ``quality`` extra is
    missing or a file cannot be read.
    """
    from imse_keras.audio_io import AudioError
    from imse_keras.metrics import format_table
    from imse_keras.quality import MissingExtraError, evaluate_no_reference

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    try:
        rows, mean = evaluate_no_reference(paths, progress=not quiet)
    except MissingExtraError as err:
        raise fail(str(err)) from err
    except (AudioError, ValueError) as err:
        raise fail(str(err)) from err
    table = format_table(rows, mean)
    click.echo(table)
    targets = targets or {"json": [], "markdown": []}
    if json_path is not None:
        targets = {**targets, "json": [*targets["json"], Path(json_path)]}
    payload = {"files": rows, "mean": mean, "source": "no-reference",
               "metric": "DNSMOS P.835 + P.808 (speechmos)"}
    write_reports(targets, lambda: _json(payload), lambda: f"```\n{table}\n```\n")
    return rows, mean


@click.command(cls=Command)
@click.option("--clean", default=None, type=click.Path(path_type=Path),
              help="Folder of clean reference files; without it --enhanced is scored with "
              "DNSMOS (no reference, needs the 'quality' extra).  [default: none]")
@click.option("--enhanced", type=click.Path(path_type=Path), default=None,
              help="Folder (or file) of files to score (same names as --clean).")
@click.option("--noisy", type=click.Path(path_type=Path), default=None,
              help="Folder of noisy files to enhance on the fly with the model, then score "
              "(needs --clean).")
@weights_option
@preset_option
@overlap_option
@threads_option
@download_option
@click.option("--no-reference", "no_reference", type=click.Path(path_type=Path), default=None,
              hidden=True, help="Deprecated: --enhanced DIR without --clean.")
@report_output_option("per-file and mean scores")
@legacy_report_options
@click.option("--backend", type=click.Choice(("keras", "tflite")), default=None,
              help="With --noisy: the float Keras model or a .tflite (--model).  "
              "[default: tflite with --model, else keras]")
@model_option("The .tflite file for --backend tflite.  [default: none]")
@quiet_option
def evaluate(clean, enhanced, noisy, weights, preset, overlap, threads, download, no_reference,
             outputs, json_path, md_path, backend, model, quiet):
    """Score PESQ-WB, STOI, SI-SDR, CSIG, CBAK, COVL and SSNR against clean references.

    Give --clean with --enhanced DIR to score existing files, or with --noisy
    DIR to enhance them first. --enhanced DIR without --clean scores DNSMOS
    SIG/BAK/OVRL and P.808 instead (no reference needed).
    """
    from imse_keras.audio_io import AudioError
    from imse_keras.metrics import format_table
    from imse_keras.metrics.evaluate import evaluate_pairs, pair_files

    targets = report_targets(outputs, json_path, md_path)
    if no_reference is not None:
        from imse_keras.cli.options import deprecated

        deprecated("--no-reference DIR", "--enhanced DIR without --clean")
        if clean or enhanced or noisy:
            raise click.UsageError("--no-reference takes no --clean/--enhanced/--noisy")
        enhanced = no_reference
    if backend is None:
        backend = "tflite" if model is not None else "keras"
    if clean is None:
        if noisy is not None:
            raise click.UsageError("--noisy needs --clean DIR (to score without a reference, "
                                   "enhance first, then give --enhanced DIR)")
        if enhanced is None:
            raise click.UsageError("give --clean DIR with exactly one of --enhanced DIR or "
                                   "--noisy DIR, or --enhanced DIR alone (DNSMOS)")
        click.echo("no --clean: scoring DNSMOS without a reference", err=True)
        run_no_reference(enhanced, quiet=quiet, targets=targets)
        return
    if (enhanced is None) == (noisy is None):
        raise click.UsageError("give exactly one of --enhanced DIR or --noisy DIR")
    try:
        pairs = pair_files(clean, enhanced if enhanced is not None else noisy)
    except (AudioError, ValueError) as err:
        raise fail(str(err)) from err
    if (backend == "tflite") != (model is not None):
        raise click.UsageError("--backend tflite and --model PATH.tflite go together")
    process = None
    if noisy is not None and backend == "tflite":
        process = tflite_enhancer_or_exit(model, preset, threads, overlap).enhance_waveform
    elif noisy is not None:
        keras_model = load_model_or_exit(weights, preset, threads, download)
        from imse_keras.enhance import Enhancer

        process = Enhancer.from_model(keras_model, preset, overlap=overlap).enhance_waveform
    try:
        rows, mean = evaluate_pairs(pairs, process, progress=not quiet and len(pairs) > 1)
    except (AudioError, ValueError) as err:
        raise fail(str(err)) from err
    table = format_table(rows, mean)
    click.echo(table)
    payload = {"files": rows, "mean": mean, "source": "noisy" if noisy else "enhanced"}
    write_reports(targets, lambda: _json(payload), lambda: f"```\n{table}\n```\n")
