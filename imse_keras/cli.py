"""The ``imse`` command line: thin wrappers over the library.

Exit codes: 0 success, 1 a reported error (bad input, missing weights, ...),
2 a usage error (unknown option, missing argument). Heavy imports (TensorFlow)
happen inside the commands, so ``imse --help`` is instant.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from imse_keras import __version__

from imse_keras.cli_common import (
    OVERLAP_CHOICES,
    PRESET_CHOICES,
    download_option as _download_option,
    fail as _fail,
    load_model_or_exit as _load,
    overlap_option as _overlap_option,
    preset_option as _preset_option,
    threads_option as _threads_option,
    tflite_enhancer_or_exit as _tflite_enhancer,
    weights_option as _weights_option,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="imse")
def main():
    """IMSE speech enhancement (Keras 3): enhance, evaluate and inspect."""


@main.command()
# str, not Path: pathlib would fold the '//' of an s3:// URI (--ray).
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(),
    help="Output file (one input file, audio extension) or directory (created if missing).",
)
@_weights_option
@_preset_option
@_overlap_option
@click.option("--batch-size", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Segments of 30,700 samples per network call (bounds memory).")
@_threads_option
@_download_option
@click.option("--backend", type=click.Choice(("keras", "tflite")), default=None,
              help="Run the float Keras model, or an exported .tflite (--model) with LiteRT "
              "(TensorFlow is not imported: less memory, see README); both use the same front "
              "end and segmentation.  [default: tflite with --model, else keras]")
@click.option("--model", "tflite_model", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The .tflite file for --backend tflite (from `imse export`).")
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True), default=120.0,
              show_default=True,
              help="Refuse longer files (minutes of audio, each channel counted), stating the "
              "compute they would take; raise it to enhance them.")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="Enhance on Ray Data, one model per actor: 'local' starts a private instance, "
              "'auto' or ray://HOST:10001 joins a cluster (needs the 'ray' extra). Inputs and -o "
              "may then be pyarrow URIs (s3://...); existing outputs count as done and are skipped.")
@click.option("--ray-workers", type=click.IntRange(1), default=None,
              help="Ray actors (each one model with --threads threads)  [default: CPUs / threads]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def enhance(inputs, output, weights, preset, overlap, batch_size, threads, download, backend,
            tflite_model, max_minutes, ray_address, ray_workers, quiet):
    """Enhance WAV/FLAC files or directories of them.

    Any sample rate from 4 kHz (resampled to 16 kHz and back) and channel count
    (each channel enhanced); outputs keep the input's length, rate and sample
    format, in the container -o names (.wav or .flac). MP3/Ogg are refused.
    A file that fails is reported in one line and nothing is written for it;
    the others are still enhanced; the exit status is 1 if any failed.
    """
    from imse_keras.audio_io import AudioError
    from imse_keras.files import enhance_file, plan_outputs
    from imse_keras.runtime import exit_on_sigterm

    exit_on_sigterm()  # so a killed batch removes its temp file, as Ctrl-C does
    if backend is None:
        backend = "tflite" if tflite_model is not None else "keras"
    if backend == "tflite" and tflite_model is None:
        raise click.UsageError("--backend tflite needs --model PATH.tflite")
    if backend == "keras" and tflite_model is not None:
        raise click.UsageError("--model is for --backend tflite; use --weights for Keras")
    if ray_address is not None:
        from imse_keras.ray_enhance import EnhancerSpec, run_enhance_command

        spec = EnhancerSpec(backend, weights, preset, overlap, batch_size, threads, download,
                            str(tflite_model) if tflite_model else None, max_minutes)
        return run_enhance_command(inputs, output, ray_address, ray_workers, spec, quiet)
    try:
        pairs = plan_outputs(list(inputs), output)
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err
    if backend == "tflite":
        enhancer = _tflite_enhancer(tflite_model, preset, threads, overlap)
    else:
        model = _load(weights, preset, threads, download)
        from imse_keras.enhance import Enhancer

        enhancer = Enhancer.from_model(model, preset, batch_size=batch_size, overlap=overlap)
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
            audio_seconds += enhance_file(enhancer, src, dst, max_minutes=max_minutes)["seconds"]
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
        target = pairs[0][1] if len(pairs) == 1 else output
        click.echo(
            f"enhanced {done}/{len(pairs)} file(s), {audio_seconds:.1f} s of audio in "
            f"{elapsed:.1f} s (real-time factor {rtf:.2f}) -> {target}",
            err=True,
        )
    if failures:
        if len(pairs) == 1:
            raise _fail(failures[0])
        raise _fail(f"{len(failures)} file(s) failed, of {len(pairs)} (listed above); "
                    "nothing was written for them")


@main.command()
@click.option("--clean", default=None, type=click.Path(path_type=Path),
              help="Directory of clean reference files.")
@click.option("--enhanced", type=click.Path(path_type=Path), default=None,
              help="Directory of files to score (same names as --clean).")
@click.option("--noisy", type=click.Path(path_type=Path), default=None,
              help="Directory of noisy files to enhance on the fly with the model, then score.")
@_weights_option
@_preset_option
@_overlap_option
@_threads_option
@_download_option
@click.option("--no-reference", "no_reference", type=click.Path(path_type=Path), default=None,
              help="Score the files in this directory with DNSMOS (P.835 SIG/BAK/OVRL, P.808), "
              "no clean reference needed (needs the 'quality' extra).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Also write per-file and mean scores as JSON here.")
@click.option("--backend", type=click.Choice(("keras", "tflite")), default="keras",
              show_default=True, help="With --noisy: the float Keras model or a .tflite (--model).")
@click.option("--model", "tflite_model", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The .tflite file for --backend tflite.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def evaluate(clean, enhanced, noisy, weights, preset, overlap, threads, download, no_reference,
             json_path, backend, tflite_model, quiet):
    """Score PESQ-WB, STOI, SI-SDR, CSIG, CBAK, COVL and SSNR against clean references.

    Give --enhanced to score existing files, or --noisy to enhance them first;
    or --no-reference DIR for reference-free DNSMOS scores.
    """
    from imse_keras.audio_io import AudioError
    from imse_keras.evaluation import evaluate_pairs, pair_files
    from imse_keras.metrics import format_table

    if no_reference is not None:
        if clean or enhanced or noisy:
            raise click.UsageError("--no-reference takes no --clean/--enhanced/--noisy")
        from imse_keras.cli_eval import run_no_reference

        run_no_reference(no_reference, json_path=json_path, quiet=quiet)
        return
    if clean is None:
        raise click.UsageError("give --clean DIR (or --no-reference DIR)")
    if (enhanced is None) == (noisy is None):
        raise click.UsageError("give exactly one of --enhanced DIR or --noisy DIR")
    try:
        pairs = pair_files(clean, enhanced if enhanced is not None else noisy)
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err
    if (backend == "tflite") != (tflite_model is not None):
        raise click.UsageError("--backend tflite and --model PATH.tflite go together")
    process = None
    if noisy is not None and backend == "tflite":
        process = _tflite_enhancer(tflite_model, preset, threads, overlap).enhance_waveform
    elif noisy is not None:
        model = _load(weights, preset, threads, download)
        from imse_keras.enhance import Enhancer

        process = Enhancer.from_model(model, preset, overlap=overlap).enhance_waveform
    try:
        rows, mean = evaluate_pairs(pairs, process, progress=not quiet and len(pairs) > 1)
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err
    click.echo(format_table(rows, mean))
    if json_path is not None:
        from imse_keras.atomic import write_text_atomic

        payload = {"files": rows, "mean": mean, "source": "noisy" if noisy else "enhanced"}
        write_text_atomic(json_path, json.dumps(payload, indent=2, allow_nan=True) + "\n")


@main.command()
@_preset_option
@_weights_option
@click.option("--summary/--no-summary", default=True, show_default=True,
              help="Print the layer-by-layer Keras summary.")
@_threads_option
@_download_option
def info(preset, weights, summary, threads, download):
    """Print parameter count, compute cost and the I/O contract of a model."""
    from imse_keras.runtime import configure_tensorflow

    configure_tensorflow(threads)
    from imse_keras.config import get_config
    from imse_keras.model import build_model
    from imse_keras.profile import count_macs, macs_per_second

    cfg = get_config(preset)
    model = _load(weights, preset, threads, download) if weights else build_model(cfg)
    if summary:
        model.summary(print_fn=lambda line, **_: click.echo(line))
    trainable = sum(int(v.numpy().size) for v in model.trainable_weights)
    seg_macs = count_macs(model, cfg.segment_frames)
    lines = [
        ("preset", preset),
        ("weights", weights or "(random init)"),
        ("trainable parameters", f"{trainable:,}"),
        ("MACs per second of audio", f"{macs_per_second(model, cfg.sampling_rate, cfg.hop_length) / 1e9:.2f} G"),
        (f"MACs per {cfg.segment_size}-sample segment", f"{seg_macs / 1e9:.2f} G"),
        ("sample rate", f"{cfg.sampling_rate} Hz"),
        ("STFT", f"n_fft={cfg.n_fft}, hop={cfg.hop_length}, periodic Hann, centre reflect"),
        ("inputs", f"mag_c, pha: [B, {cfg.num_freqs}, T], T a multiple of 4"),
        ("outputs", f"mag_c_out, pha_out: [B, {cfg.num_freqs}, T]; com_out: [B, {cfg.num_freqs}, T, 2]"),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        click.echo(f"{key:<{width}}  {value}")


@main.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("demo_out"),
              show_default=True, help="Folder for the clean, noisy and enhanced files.")
@click.option("--noisy", type=click.Path(path_type=Path), default=None,
              help="Enhance this recording instead of a synthesised example.")
@click.option("--clean", type=click.Path(path_type=Path), default=None,
              help="Clean reference of --noisy, to score the result.")
@click.option("--noise", default="brown", show_default=True,
              help="Noise of the synthesised example: white, pink, brown, babble, hum, clicks, "
              "or a noise recording's path.")
@click.option("--snr", "snr_db", type=float, default=5.0, show_default=True,
              help="SNR of the synthesised example, dB.")
@_weights_option
@_threads_option
@_download_option
def demo(out_dir, noisy, clean, noise, snr_db, weights, threads, download):
    """Synthesise a noisy utterance, enhance it with the official model, and score it."""
    from imse_keras.runtime import configure_tensorflow

    configure_tensorflow(threads)
    from imse_keras.audio_io import AudioError
    from imse_keras.demo import run_demo
    from imse_keras.synth import SynthesisError
    from imse_keras.weights import CheckpointError, DownloadError, WeightsNotFoundError

    try:
        run_demo(out_dir, noisy=noisy, clean=clean, weights=weights, noise=noise,
                 snr_db=snr_db, allow_download=download, echo=click.echo)
    except (AudioError, SynthesisError, CheckpointError, DownloadError,
            WeightsNotFoundError, KeyError, ValueError) as err:
        raise _fail(str(err)) from err


def _register_optional_commands() -> None:
    """Commands that live in their own modules (imported lazily inside)."""
    from imse_keras.cli_eval import compare, report
    from imse_keras.cli_export import export, validate
    from imse_keras.cli_train import make_demo_data, train

    for command in (compare, report, train, make_demo_data, export, validate):
        main.add_command(command)


_register_optional_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
