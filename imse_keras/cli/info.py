"""``imse info``: parameters, compute cost and the I/O contract of a model."""

from __future__ import annotations

import click

from imse_keras.cli.options import (
    Command,
    download_option,
    load_model_or_exit,
    preset_option,
    threads_option,
    weights_option,
)

__all__ = ["info"]


@click.command(cls=Command)
@preset_option
@click.option("--weights", "-w", default=None, metavar="NAME|PATH",
              help="Weights to load (as for every command: an official checkpoint name, a "
              "PyTorch checkpoint or a .weights.h5 file).  [default: none, a random init; "
              "the counts do not depend on it]")
@click.option("--summary/--no-summary", default=True, show_default=True,
              help="Print the layer-by-layer Keras summary.")
@threads_option
@download_option
def info(preset, weights, summary, threads, download):
    """Print parameter count, compute cost and the I/O contract of a model."""
    from imse_keras.runtime import configure_tensorflow

    configure_tensorflow(threads)
    from imse_keras.config import get_config
    from imse_keras.macs import count_macs, macs_per_second
    from imse_keras.model import build_model

    cfg = get_config(preset)
    model = load_model_or_exit(weights, preset, threads, download) if weights else build_model(cfg)
    if summary:
        model.summary(print_fn=lambda line, **_: click.echo(line))
    trainable = sum(int(v.numpy().size) for v in model.trainable_weights)
    seg_macs = count_macs(model, cfg.segment_frames)
    per_second = macs_per_second(model, cfg.sampling_rate, cfg.hop_length)
    lines = [
        ("preset", preset),
        ("weights", weights or "(random init)"),
        ("parameters", f"{model.count_params():,} ({trainable:,} trainable; the one-path "
                       "SKFFs' weights are frozen)"),
        ("MACs per second of audio", f"{per_second / 1e9:.2f} G"),
        (f"MACs per {cfg.segment_size}-sample segment", f"{seg_macs / 1e9:.2f} G"),
        ("sample rate", f"{cfg.sampling_rate} Hz"),
        ("STFT", f"n_fft={cfg.n_fft}, hop={cfg.hop_length}, periodic Hann, centre reflect"),
        ("inputs", f"mag_c, pha: [B, T, {cfg.num_freqs}], T a multiple of 4"),
        ("outputs", f"mag_c_out, pha_out: [B, T, {cfg.num_freqs}]; "
                    f"com_out: [B, T, {cfg.num_freqs}, 2]"),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        click.echo(f"{key:<{width}}  {value}")
