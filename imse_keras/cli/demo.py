"""``make demo`` / ``imse demo``: hear IMSE clean up a noisy recording.

:func:`run_demo` is the library function, :func:`demo` its click command.

With no input it synthesises a clean utterance (eSpeak NG) and mixes it with
brown noise at 5 dB SNR, so a fresh clone needs nothing but the weights. It
then enhances the noisy file with the official model and scores both against
the clean reference. (Brown noise is closest in tilt to the DEMAND recordings
the model was trained on; the README lists how other noise types fare.)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from imse_keras.cli.options import (
    Command,
    download_option,
    fail,
    threads_option,
    weights_option,
)

__all__ = ["run_demo", "demo"]


def run_demo(
    out_dir: str | os.PathLike = "demo_out",
    noisy: str | os.PathLike | None = None,
    clean: str | os.PathLike | None = None,
    weights: str | None = None,
    noise: str = "brown",
    snr_db: float = 5.0,
    seed: int = 0,
    allow_download: bool = True,
    echo=print,
) -> dict:
    """Run the demo; returns paths and scores.

    Args:
        out_dir: folder for ``clean/``, ``noisy/`` and ``enhanced/``.
        noisy: a recording of one's own to enhance (then ``clean`` is optional
            and scores are only computed when it is given).
        clean: the clean reference of ``noisy``.
        weights: see :func:`imse_keras.weights.load.load_pretrained`.
        noise, snr_db, seed: how the synthetic example is made.
    """
    from imse_keras.audio_io import read_audio
    from imse_keras.enhance import Enhancer
    from imse_keras.metrics import score_pair
    from imse_keras.metrics.evaluate import load_mono_16k
    from imse_keras.streaming import enhance_file_streaming as enhance_file
    from imse_keras.weights.load import load_pretrained

    out = Path(out_dir)
    if noisy is None:
        from imse_keras.synth import make_example

        echo(f"synthesising a noisy example ({noise} noise at {snr_db:g} dB SNR) ...")
        clean_path, noisy_path = make_example(out, seed=seed, snr_db=snr_db, noise=noise)
    else:
        noisy_path = Path(noisy)
        clean_path = Path(clean) if clean is not None else None
        read_audio(noisy_path)  # fail early, with the file name, on bad input
    echo("loading the official IMSE weights ...")
    model = load_pretrained(weights, allow_download=allow_download)
    enhanced_path = out / "enhanced" / noisy_path.name
    enhancer = Enhancer.from_model(model)
    # Enhance once untimed: every batch shape this file needs is traced then
    # (a warm-up of one segment misses the file's own batch shapes, and TF's
    # tracing would count as enhancement), so the timed run is steady state.
    enhance_file(enhancer, noisy_path, enhanced_path)
    start = time.perf_counter()
    info = enhance_file(enhancer, noisy_path, enhanced_path)
    elapsed = time.perf_counter() - start
    result = {
        "noisy": str(noisy_path),
        "enhanced": str(enhanced_path),
        "clean": str(clean_path) if clean_path else None,
        "seconds": info["seconds"],
        "real_time_factor": elapsed / info["seconds"],
    }
    if clean_path is not None:
        ref = load_mono_16k(clean_path)
        result["scores"] = {
            "noisy": score_pair(ref, load_mono_16k(noisy_path)),
            "enhanced": score_pair(ref, load_mono_16k(enhanced_path)),
        }
        keys = ("pesq", "stoi", "si_sdr", "csig", "cbak", "covl")
        echo("")
        echo(f"{'':10}" + "".join(f"{k:>9}" for k in keys))
        for name, scores in result["scores"].items():
            echo(f"{name:10}" + "".join(f"{scores[k]:9.3f}" for k in keys))
    echo("")
    echo(f"enhanced {info['seconds']:.1f} s of audio in {elapsed:.1f} s "
         f"(real-time factor {result['real_time_factor']:.2f})")
    echo(f"noisy input : {noisy_path}")
    echo(f"enhanced    : {enhanced_path}")
    if clean_path is not None:
        echo(f"clean ref.  : {clean_path}")
    return result


@click.command(cls=Command, aliases={"--out": ("--output", None)})
@click.option("--output", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo_out"), show_default=True,
              help="Folder for the clean, noisy and enhanced files.")
@click.option("--noisy", type=click.Path(path_type=Path), default=None,
              help="Enhance this recording instead of a synthesised example.  [default: none]")
@click.option("--clean", type=click.Path(path_type=Path), default=None,
              help="Clean reference of --noisy, to score the result.  [default: none]")
@click.option("--noise", default="brown", show_default=True,
              help="Noise of the synthesised example: white, pink, brown, babble, hum, clicks, "
              "or a noise recording's path.")
@click.option("--snr", "snr_db", type=float, default=5.0, show_default=True,
              help="SNR of the synthesised example, dB.")
@weights_option
@threads_option
@download_option
def demo(out_dir, noisy, clean, noise, snr_db, weights, threads, download):
    """Synthesise a noisy utterance, enhance it with the official model, and score it."""
    from imse_keras.runtime import configure_tensorflow

    configure_tensorflow(threads)
    from imse_keras.audio_io import AudioError
    from imse_keras.synth import SynthesisError
    from imse_keras.weights import CheckpointError, DownloadError, WeightsNotFoundError

    try:
        run_demo(out_dir, noisy=noisy, clean=clean, weights=weights, noise=noise,
                 snr_db=snr_db, allow_download=download, echo=click.echo)
    except (AudioError, SynthesisError, CheckpointError, DownloadError,
            WeightsNotFoundError, KeyError, ValueError) as err:
        raise fail(str(err)) from err
