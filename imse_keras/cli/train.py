"""``imse train`` and ``imse make-demo-data``: thin wrappers over
:func:`imse_keras.training.train` and :func:`imse_keras.data.demo.make_demo_data`.

Both write a folder, named by ``-o/--output``; ``train --weights`` is the
initial model (``official``, ``none`` or a file). TensorFlow is imported inside
the commands so that ``--help`` is instant.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from imse_keras.cli.options import Command, deprecated, preset_option, threads_option

__all__ = ["make_demo_data", "train"]


def _one_line(err: BaseException) -> click.ClickException:
    text = str(err).strip().splitlines()
    return click.ClickException(text[0] if text else type(err).__name__)


def _exit_now(err: click.ClickException) -> None:
    """Report and leave at once: after a worker's failure TensorFlow's cluster
    shutdown can block the interpreter's exit (a hang instead of an error)."""
    import os
    import sys

    click.echo(f"Error: {err.message}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


@click.command("train", cls=Command,
               aliases={"--out": ("--output", None), "--init": ("--weights", None)})
@click.option("--data", "data", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Data folder: VoiceBank+DEMAND layout (clean_trainset_28spk_wav/ ...), "
                   "clean/ + noisy/, or clean/ + noise/ (mixed on the fly).")
@click.option("--output", "-o", "out", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Run folder (config, checkpoints, logs). Rerun with the same folder to resume.")
@preset_option
@click.option("--weights", "-w", "init", default="official", show_default=True,
              metavar="official|none|PATH",
              help="Initial weights: 'official' (fine-tune the released model), 'none' "
                   "(random, train from scratch) or a weights file path.")
@click.option("--epochs", type=click.IntRange(1), default=100, show_default=True, help="Epochs to train.")
@click.option("--steps-per-epoch", type=click.IntRange(1), default=1000, show_default=True,
              help="Training steps per epoch (VoiceBank train at batch 2: 5786).")
@click.option("--batch-size", type=click.IntRange(1), default=2, show_default=True,
              help="Examples per step (per replica with --strategy mirrored/multiworker).")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=5e-4, show_default=True,
              help="Initial learning rate of AdamW (x 0.99 per epoch).")
@click.option("--segment-size", type=click.IntRange(400), default=30700, show_default=True,
              help="Training crop in samples at 16 kHz; 1 + size // 100 must be a multiple of 4.")
@click.option("--metric-disc/--no-metric-disc", default=False, show_default=True,
              help="Train the PESQ metric discriminator and add its loss (official recipe; slower).")
@click.option("--strategy", type=click.Choice(("default", "mirrored", "multiworker")), default="default",
              show_default=True, help="tf.distribute strategy (mirrored: all local GPUs; "
              "multiworker: several machines, each given its TF_CONFIG; README: Scaling past one machine).")
@click.option("--skip-bad/--fail-bad", default=True, show_default=True,
              help="Skip and count bad files (unreadable, unpaired, wrong rate or length, silent), "
                   "or stop at the first one.")
@click.option("--val-every", type=click.IntRange(0), default=0, show_default=True,
              help="Also validate every N steps (0: only at the end of each epoch).")
@click.option("--val-files", type=click.IntRange(1), default=None, show_default=True,
              help="Validate on the first N test pairs only (default: all).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (weights, data order, crops).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              show_default="DATA/.imse_cache16k", help="Where files not at 16 kHz are resampled to, once.")
@click.option("--verbose", type=click.IntRange(0, 2), default=1, show_default=True,
              help="Keras verbosity: 0 silent, 1 progress bar, 2 one line per epoch.")
@click.option("--run-eagerly", is_flag=True, default=False,
              help="Run training steps eagerly (no graph tracing: quicker to start, slower per step); "
                   "for debugging and short checks.  [default: off]")
@threads_option
def train(data, out, preset, init, epochs, steps_per_epoch, batch_size, lr, segment_size, metric_disc,
          strategy, skip_bad, val_every, val_files, seed, cache_dir, verbose, run_eagerly, threads):
    """Train or fine-tune IMSE with model.fit (AdamW, lr x0.99/epoch, best checkpoint by PESQ)."""
    from imse_keras.runtime import configure_tensorflow

    configure_tensorflow(threads)
    from imse_keras.data import DataError
    from imse_keras.training import TrainOptions
    from imse_keras.training import train as run_training

    if init not in ("official", "none") and not Path(init).is_file():
        raise click.BadParameter(f"not 'official', 'none' or an existing file: {init}", param_hint="--weights")
    opts = TrainOptions(
        data=str(data), out=str(out), preset=preset, init=init, epochs=epochs,
        steps_per_epoch=steps_per_epoch, batch_size=batch_size, lr=lr, segment_size=segment_size,
        metric_disc=metric_disc, strategy=strategy, skip_bad=skip_bad, val_every=val_every,
        val_files=val_files, seed=seed, cache_dir=str(cache_dir) if cache_dir else None, verbose=verbose,
        run_eagerly=run_eagerly,
    )
    from imse_keras.training.cluster import ClusterError

    try:
        result = run_training(opts, say=lambda m: click.echo(m, err=True))
    except (DataError, ValueError, OSError, ClusterError) as e:
        if strategy == "multiworker":
            _exit_now(_one_line(e))
        raise _one_line(e) from e
    except BaseException as e:
        if strategy == "multiworker":
            _exit_now(_one_line(e))
        raise
    click.echo(json.dumps({"run_dir": result["run_dir"], "epochs": len(result["epochs_run"]),
                           "wall_s": round(result["wall_s"], 1),
                           "sec_per_step": round(result["sec_per_step"], 3)}))


class _LegacyOutCommand(Command):
    """Hides the deprecated positional OUT from the usage line."""

    def collect_usage_pieces(self, ctx):
        return [p for p in super().collect_usage_pieces(ctx) if p != "[LEGACY_OUT]"]


@click.command("make-demo-data", cls=_LegacyOutCommand)
@click.argument("legacy_out", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--output", "-o", "out", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder to write (VoiceBank layout).  [required]")
@click.option("--train-files", type=click.IntRange(1), default=8, show_default=True, help="Training pairs.")
@click.option("--test-files", type=click.IntRange(0), default=2, show_default=True, help="Validation pairs.")
@click.option("--noise-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              show_default=True, help="Also mix with the noise recordings in this folder.")
@click.option("--snr-min", type=float, default=0.0, show_default=True, help="Lowest SNR, dB.")
@click.option("--snr-max", type=float, default=15.0, show_default=True, help="Highest SNR, dB.")
@click.option("--sample-rate", type=click.Choice(("16000", "48000")), default="16000", show_default=True,
              help="Rate of the files (48000 as the original VoiceBank release).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; same seed, same files.")
def make_demo_data(legacy_out, out, train_files, test_files, noise_dir, snr_min, snr_max,
                   sample_rate, seed):
    """Write a small VoiceBank-layout dataset to -o (eSpeak NG speech + synthetic/real noise)."""
    from imse_keras.data.demo import make_demo_data as make

    if legacy_out is not None:
        deprecated("the positional OUT", "-o OUT")
        if out is not None:
            raise click.UsageError("give the folder once: -o OUT")
        out = legacy_out
    if out is None:
        raise click.UsageError("Missing option '-o' / '--output'.")

    if snr_min > snr_max:
        raise click.UsageError("--snr-min must not exceed --snr-max")
    try:
        result = make(out, train_files, test_files, noise_dir=noise_dir, snr_range=(snr_min, snr_max),
                      sample_rate=int(sample_rate), seed=seed)
    except Exception as e:  # synthesis or I/O failure: one line, exit 1
        raise _one_line(e) from e
    click.echo(f"wrote {result['train']} train + {result['test']} test pairs to {out}")
