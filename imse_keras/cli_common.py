"""Options and helpers shared by the ``imse`` subcommands (no heavy imports).

Every command module (:mod:`imse_keras.cli`, :mod:`imse_keras.cli_eval`,
:mod:`imse_keras.cli_export`) takes its common options from here, so a flag
means the same everywhere.
"""

from __future__ import annotations

import os

import click

from imse_keras.config import DEFAULT_OVERLAP, preset_names

__all__ = [
    "OVERLAP_CHOICES", "PRESET_CHOICES", "weights_option", "preset_option", "threads_option",
    "overlap_option", "download_option", "fail", "load_model_or_exit", "tflite_enhancer_or_exit",
]

OVERLAP_CHOICES = ("crossfade", "official")
PRESET_CHOICES = preset_names()

weights_option = click.option(
    "--weights",
    "-w",
    default=None,
    metavar="NAME|PATH",
    help="Official checkpoint name (g_best_pesq_3.399, g_best_pesq_3.373, or alias 3.399/3.373), "
    "a PyTorch checkpoint file, or a Keras .weights.h5 file. Default: g_best_pesq_3.399, "
    "downloaded once (or taken from $IMSE_WEIGHTS).",
)
preset_option = click.option(
    "--preset",
    type=click.Choice(PRESET_CHOICES),
    default="imse",
    show_default=True,
    help="Architecture of the weights.",
)
threads_option = click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help="TensorFlow intra-op threads  [default: $IMSE_THREADS or 2]",
)
overlap_option = click.option(
    "--overlap",
    type=click.Choice(OVERLAP_CHOICES),
    default=DEFAULT_OVERLAP,
    show_default=True,
    help="How the overlapping tail segment of a long file is merged: a raised-cosine "
    "cross-fade, or taken from the last segment as the authors' inference.py does.",
)
download_option = click.option(
    "--download/--no-download",
    default=True,
    show_default=True,
    help="Allow downloading the official weights when no local copy exists.",
)


def fail(message: str) -> click.ClickException:
    return click.ClickException(message.splitlines()[0] if message else "failed")


def load_model_or_exit(weights, preset, threads, download):
    """Configure TF and load the model; library errors become one-line exits."""
    from imse_keras.runtime import configure_tensorflow

    configure_tensorflow(threads)
    from imse_keras.weights import CheckpointError, DownloadError, WeightsNotFoundError
    from imse_keras.weights.convert import WeightMappingError
    from imse_keras.weights.load import load_pretrained

    try:
        return load_pretrained(weights, preset=preset, allow_download=download)
    except (CheckpointError, WeightMappingError, DownloadError, WeightsNotFoundError) as err:
        raise fail(str(err)) from err
    except (KeyError, FileNotFoundError, OSError, ValueError) as err:
        raise fail(f"cannot load weights {weights!r}: {err}") from err


def tflite_enhancer_or_exit(path, preset: str, threads: int | None, overlap: str):
    """An Enhancer over a .tflite (LiteRT only: TensorFlow is not imported).

    A file that LiteRT cannot load, or whose input shape does not fit the
    preset's segment, becomes a one-line exit.
    """
    from imse_keras.config import get_config
    from imse_keras.enhance import Enhancer
    from imse_keras.export.runner import LiteRTModel, tflite_backend

    cfg = get_config(preset)
    try:
        runner = LiteRTModel(path, num_threads=threads or int(os.environ.get("IMSE_THREADS", 2)))
    except (OSError, ValueError, RuntimeError) as err:
        raise fail(f"cannot load {path}: {err}") from err
    if runner.num_freqs != cfg.num_freqs or runner.num_frames not in (None, cfg.segment_frames):
        raise fail(
            f"{path} takes [1, {runner.num_frames}, {runner.num_freqs}] inputs; preset "
            f"{preset!r} feeds [1, {cfg.segment_frames}, {cfg.num_freqs}]"
        )
    import numpy as np

    from imse_keras.runtime import filter_native_logs

    enhancer = Enhancer(tflite_backend(runner), cfg, batch_size=1, overlap=overlap)
    # One untimed call: LiteRT sets up XNNPACK then and logs an INFO line about
    # it, hidden as TF's are (the CLI's default TF_CPP_MIN_LOG_LEVEL is 2).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with filter_native_logs():
            enhancer.enhance_segments(np.zeros((1, cfg.segment_size), np.float32))
    except (RuntimeError, ValueError) as err:
        raise fail(f"cannot run {path}: {err}") from err
    return enhancer
