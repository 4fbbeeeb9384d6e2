"""``imse enhance``: WAV/FLAC files or folders in, enhanced files out."""

from __future__ import annotations

import time
from pathlib import Path

import click

from imse_keras.cli.options import (
    Command,
    download_option,
    fail,
    load_model_or_exit,
    model_option,
    overlap_option,
    preset_option,
    threads_option,
    tflite_enhancer_or_exit,
    weights_option,
)

__all__ = ["enhance", "KERAS_BATCH_SIZE"]

#: Segments per Keras call when --batch-size is not given (a .tflite runs one per call).
KERAS_BATCH_SIZE = 4


@click.command(cls=Command)
# str, not Path: pathlib would fold the '//' of an s3:// URI (--ray).
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(),
    help="Output file (one input file, .wav or .flac) or folder (created if missing; a "
    "trailing / always means a folder).",
)
@weights_option
@preset_option
@overlap_option
@click.option("--batch-size", type=click.IntRange(1, 64), default=None,
              help="Segments of 30,700 samples per Keras call (bounds memory); --backend tflite "
              f"runs one per call and refuses other values.  [default: {KERAS_BATCH_SIZE}]")
@threads_option
@download_option
@click.option("--backend", type=click.Choice(("keras", "tflite")), default=None,
              help="Run the float Keras model, or an exported .tflite (--model) with LiteRT "
              "(TensorFlow is not imported: less memory, see README); both use the same front "
              "end and segmentation.  [default: tflite with --model, else keras]")
@model_option("The .tflite file for --backend tflite (from `imse export`).  [default: none]")
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True), default=120.0,
              show_default=True,
              help="Refuse longer files (minutes of audio, each channel counted), stating the "
              "compute they would take; raise it to enhance them.")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="Enhance on Ray Data, one model per actor: 'local' starts a private instance, "
              "'auto' or ray://HOST:10001 joins a cluster (needs the 'ray' extra). Inputs and -o "
              "may then be pyarrow URIs (s3://...); existing outputs count as done and are "
              "skipped.  [default: no Ray]")
@click.option("--ray-workers", type=click.IntRange(1), default=None,
              help="Ray actors (each one model with --threads threads)  [default: CPUs / threads]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.  [default: off]")
def enhance(inputs, output, weights, preset, overlap, batch_size, threads, download, backend,
            model, max_minutes, ray_address, ray_workers, quiet):
    """Enhance WAV/FLAC files or directories of them.

    Any sample rate from 4 kHz (resampled to 16 kHz and back) and channel count
    (each channel enhanced); outputs keep the input's length, rate and sample
    format, in the container -o names (.wav or .flac). MP3/Ogg are refused.
    A file that fails is reported in one line and nothing is written for it;
    the others are still enhanced; the exit status is 1 if any failed.
    """
    if backend is None:
        backend = "tflite" if model is not None else "keras"
    if backend == "tflite" and model is None:
        raise click.UsageError("--backend tflite needs --model PATH.tflite")
    if backend == "keras" and model is not None:
        raise click.UsageError("--model is a .tflite for --backend tflite; use --weights for Keras")
    if backend == "tflite" and batch_size not in (None, 1):
        raise click.UsageError(f"--batch-size {batch_size}: a .tflite runs one segment per call "
                               "(its graph's batch is 1); drop --batch-size")
    if batch_size is None:
        batch_size = KERAS_BATCH_SIZE if backend == "keras" else 1
    from imse_keras.audio_io import AudioError
    from imse_keras.cli.outputs import plan_outputs
    from imse_keras.runtime import exit_on_sigterm
    from imse_keras.streaming import enhance_file_streaming

    exit_on_sigterm()  # so a killed batch removes its temp file, as Ctrl-C does
    if ray_address is not None:
        from imse_keras.ray_enhance import EnhancerSpec, run_enhance_command

        spec = EnhancerSpec(backend, weights, preset, overlap, batch_size, threads, download,
                            str(model) if model else None, max_minutes)
        return run_enhance_command(inputs, output, ray_address, ray_workers, spec, quiet)
    try:
        pairs = plan_outputs(list(inputs), output)
    except (AudioError, ValueError) as err:
        raise fail(str(err)) from err
    if backend == "tflite":
        enhancer = tflite_enhancer_or_exit(model, preset, threads, overlap)
    else:
        keras_model = load_model_or_exit(weights, preset, threads, download)
        from imse_keras.enhance import Enhancer

        enhancer = Enhancer.from_model(keras_model, preset, batch_size=batch_size, overlap=overlap)
    show = not quiet and len(pairs) > 1
    if show:
        from tqdm import tqdm

        pairs_iter = tqdm(pairs, unit="file", desc="enhancing")
    else:
        pairs_iter = pairs
    report = pairs_iter.write if show else (lambda line: click.echo(line, err=True))
    if len(pairs) == 1:  # its one error line is the exit message below
        report = lambda line: None  # noqa: E731
    start, audio_seconds, failures = time.perf_counter(), 0.0, []
    for src, dst in pairs_iter:
        try:
            info = enhance_file_streaming(enhancer, src, dst, max_minutes=max_minutes)
            audio_seconds += info["seconds"]
        except (AudioError, ValueError) as err:
            failures.append(str(err).splitlines()[0] if str(err) else f"{src}: failed")
            report(f"error: {failures[-1]}")
        except Exception as err:  # a batch goes on; the file is named, nothing written
            failures.append(f"{src}: {type(err).__name__}: {str(err)}".splitlines()[0])
            report(f"error: {failures[-1]}")
    elapsed = time.perf_counter() - start
    done = len(pairs) - len(failures)
    if not quiet and done:
        rtf = elapsed / audio_seconds if audio_seconds else float("nan")
        target = pairs[0][1] if len(pairs) == 1 else Path(output)
        click.echo(
            f"enhanced {done}/{len(pairs)} file(s), {audio_seconds:.1f} s of audio in "
            f"{elapsed:.1f} s (real-time factor {rtf:.2f}) -> {target}",
            err=True,
        )
    if failures:
        if len(pairs) == 1:
            raise fail(failures[0])
        raise fail(f"{len(failures)} file(s) failed, of {len(pairs)} (listed above); "
                   "nothing was written for them")
