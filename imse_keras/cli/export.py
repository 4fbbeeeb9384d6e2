"""``imse export`` and ``imse validate``: TFLite/LiteRT export and its check.

``imse export -o`` follows the rule of every command: ``-o a.tflite`` writes
``a.tflite`` and its contract ``a.json`` (one mode only), ``-o dir`` writes
``dir/<preset>_<mode>.tflite`` per mode. ``--threads`` sets TensorFlow's
intra-op threads and the LiteRT interpreter's alike. Exit codes as for every ``imse`` command: 0 success,
1 a reported error (including a validation whose mean PESQ-WB drop exceeds
``--max-pesq-drop``), 2 a usage error. TensorFlow is imported inside the
commands, so ``--help`` stays instant.
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from imse_keras.cli.options import (
    Command,
    as_folder,
    deprecated,
    download_option as _download_option,
    is_file_target,
    legacy_report_options,
    quiet_option,
    report_output_option,
    report_targets,
    write_reports,
    fail as _fail,
    load_model_or_exit,
    tflite_enhancer_or_exit,
    overlap_option as _overlap_option,
    preset_option as _preset_option,
    threads_option as _threads_option,
    resolve_threads,
    weights_option as _weights_option,
)

MODE_CHOICES = ("float32", "float16", "dynamic", "int8", "all")

#: Old spellings (hidden; one deprecation line each): --threads now sets both thread pools.
_THREAD_ALIASES = {"--tflite-threads": ("--threads", None)}
_max_drop_option = click.option(
    "--max-pesq-drop", type=click.FloatRange(min=0.0), default=0.05, show_default=True,
    help="Fail (exit 1) when the mean PESQ-WB of the TFLite model is lower than the float "
    "Keras model's by more than this.",
)


def _calibration(calib: str | None, count: int, preset: str, seed: int):
    """Calibration data from a folder, or synthesized (``--calib synth``)."""
    from imse_keras.export.calibration import (
        CalibrationError,
        calibration_from_dir,
        calibration_from_waveforms,
        synthesize_calibration_audio,
    )

    try:
        if calib == "synth":
            from imse_keras.synth import SynthesisError

            # Each 4-6 s utterance gives 3-4 segments of 1.92 s.
            try:
                waves, described = synthesize_calibration_audio(math.ceil(count / 3), seed=seed)
            except SynthesisError as err:
                raise _fail(f"--calib synth needs eSpeak NG (pip install '.[demo]'): {err}") from err
            return calibration_from_waveforms(
                waves, preset, count=count, seed=seed,
                info={"source": "synthetic (eSpeak NG speech + synthetic noise)",
                      "files": len(waves), "utterances": described},
            )
        return calibration_from_dir(calib, preset, count=count, seed=seed)
    except CalibrationError as err:
        raise _fail(str(err)) from err


def _export_target(output, name, modes, preset) -> tuple[Path, str | None]:
    """``(folder, file stem or None)`` from ``-o`` (and the deprecated ``--name``).

    Raises :class:`click.UsageError` for a file name with several modes or an
    extension other than .tflite.
    """
    if name is not None:
        deprecated("--name NAME", "-o DIR/NAME.tflite")
        if len(modes) > 1:
            raise click.UsageError("--name needs a single --mode")
        if output is not None and is_file_target(output):
            raise click.UsageError("give -o DIR/NAME.tflite or --name NAME, not both")
    if output is None:
        return Path("tflite"), name
    if not is_file_target(output):
        return Path(output), name
    if Path(output).suffix.lower() != ".tflite":
        raise click.UsageError(f"-o {output}: an export is a .tflite file or a folder")
    if len(modes) > 1:
        raise click.UsageError(
            f"-o {output} names one file but {len(modes)} modes are exported "
            f"({', '.join(modes)}); give a folder (files are named {preset}_<mode>.tflite)"
        )
    return Path(output).parent, Path(output).stem


def _validation_pairs(clean: Path, noisy: Path):
    from imse_keras.audio_io import AudioError
    from imse_keras.metrics.evaluate import pair_files

    try:
        return pair_files(clean, noisy)
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err


def _validate(model, preset, tflite_path, pairs, overlap, max_drop, threads, quiet, weights):
    """Run :func:`imse_keras.export.validate.validate_model`; library errors become exits."""
    from imse_keras.audio_io import AudioError
    from imse_keras.enhance import Enhancer
    from imse_keras.export.validate import validate_model

    candidate = tflite_enhancer_or_exit(tflite_path, preset, threads, overlap)
    reference = Enhancer.from_model(model, preset, overlap=overlap)
    settings = {"weights": weights or "g_best_pesq_3.399", "preset": preset, "overlap": overlap,
                "tflite_threads": resolve_threads(threads), "files": len(pairs),
                "model_bytes": Path(tflite_path).stat().st_size}
    try:
        return validate_model(
            pairs, reference.enhance_waveform, candidate.enhance_waveform,
            max_pesq_drop=max_drop, model=str(tflite_path), settings=settings,
            progress=not quiet and len(pairs) > 1,
        )
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err


@click.command(cls=Command, aliases={**_THREAD_ALIASES, "--out-dir": ("--output", as_folder)})
@click.option("--mode", "-m", "modes", type=click.Choice(MODE_CHOICES), multiple=True,
              default=("int8",), show_default=True,
              help="Export mode; repeat for several, or 'all'.")
@_weights_option
@_preset_option
# str, not Path: pathlib drops a trailing '/', which says "a folder" (-o models.v2/).
@click.option("--output", "-o", type=click.Path(), default=None,
              help="A .tflite file (one --mode; its .json contract is written beside it), or a "
              "folder for <preset>_<mode>.tflite and .json per mode.  [default: tflite/]")
@click.option("--name", default=None, hidden=True,
              help="Deprecated: -o DIR/NAME.tflite.")
@click.option("--calib", default=None, metavar="DIR|synth",
              help="int8 calibration audio: a folder of WAV/FLAC files (searched recursively, "
              "through the same front end as inference), or 'synth' for synthetic noisy speech "
              "(needs the demo extra). Must not contain your test set.")
@click.option("--calib-count", type=click.IntRange(1, 4096), default=32, show_default=True,
              help="Calibration segments (30,700 samples each; about 17 s each to calibrate "
              "the official model).")
@click.option("--calib-seed", type=int, default=0, show_default=True,
              help="Seed for choosing segments (and for --calib synth).")
@click.option("--frames", type=click.IntRange(0, 100000), default=None,
              help="T of the exported graph  [default: 308, one inference segment; 0: dynamic "
              "T, float modes only]")
@click.option("--validate", "validate_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None,
              help="After export, validate each model on DIR/clean and DIR/noisy and write "
              "<name>.validation.json and .md beside it.")
@click.option("--float-weights", type=click.Choice(("float16", "int8", "float32")),
              default="float16", show_default=True,
              help="int8 mode: storage of the weights of the ops that compute in float. float16: "
              "LiteRT's XNNPACK runs those ops (the fast default); int8: the smallest file, but "
              "those ops fall back to slower builtin kernels (tflite/README.md).")
@_max_drop_option
@_overlap_option
@_threads_option
@_download_option
@quiet_option
def export(modes, weights, preset, output, name, calib, calib_count, calib_seed, frames,
           float_weights, validate_dir, max_pesq_drop, overlap, threads, download, quiet):
    """Export the model to TFLite/LiteRT (.tflite plus a .json I/O contract).

    Builtin ops only; the export fails if a Flex/custom op appears. int8 is
    calibrated on --calib audio. See tflite/README.md for the contract.
    """
    from imse_keras.export.policy import POLICIES

    selected = list(POLICIES) if "all" in modes else list(dict.fromkeys(modes))
    if float_weights != "float16" and "int8" not in selected:
        raise click.UsageError("--float-weights applies to --mode int8 only")
    out_dir, name = _export_target(output, name, selected, preset)
    if "int8" in selected and calib is None:
        raise click.UsageError("int8 needs calibration audio: --calib DIR (or --calib synth)")
    if frames == 0 and "int8" in selected:
        raise click.UsageError("--frames 0 (dynamic T) works for float modes only")
    pairs = None
    if validate_dir is not None:
        pairs = _validation_pairs(validate_dir / "clean", validate_dir / "noisy")
    model = load_model_or_exit(weights, preset, threads, download)
    from imse_keras.export.convert import ExportError
    from imse_keras.export.pipeline import export_tflite, weights_source

    source = weights_source(weights)
    calibration = None
    if "int8" in selected:
        calibration = _calibration(calib, calib_count, preset, calib_seed)
    failed = []
    for mode in selected:
        if not quiet:
            extra = f" (calibrating on {len(calibration)} segments)" if mode == "int8" else ""
            click.echo(f"exporting {mode}{extra} ...", err=True)
        try:
            policy = POLICIES[mode]
            if mode == "int8":
                policy = policy.replace(float_constants=float_weights)
            art = export_tflite(
                model, policy, out_dir, config=preset, name=name,
                calibration=calibration if mode == "int8" else None,
                source=source, num_frames=frames,
            )
        except (ExportError, ValueError) as err:
            raise _fail(f"{mode}: {err}") from err
        summary = art.result.summary
        floats = sum(n for op, n in summary.float_op_counts.items() if op != "DEQUANTIZE")
        click.echo(
            f"wrote {art.model_path} ({art.model_path.stat().st_size / 1024:.0f} KiB, "
            f"{summary.num_ops} ops, {floats} in float) and {art.contract_path.name}"
        )
        if pairs is not None:
            report = _validate(model, preset, art.model_path, pairs, overlap, max_pesq_drop,
                               threads, quiet, weights)
            js, md = report.write(art.model_path.with_suffix(""))
            click.echo(f"{report.summary_line()} -> {js.name}, {md.name}")
            if not report.passed:
                failed.append(f"{mode}: mean PESQ-WB drop {report.pesq_drop:.4f} > {max_pesq_drop}")
    if failed:
        raise _fail("validation failed: " + "; ".join(failed))


@click.command(cls=Command, aliases=_THREAD_ALIASES)
@click.option("--clean", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory of clean reference files.")
@click.option("--noisy", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory of noisy files (same names as --clean).")
@click.option("--model", "model_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The .tflite file to check.")
@_weights_option
@_preset_option
@_max_drop_option
@_overlap_option
@_threads_option
@_download_option
@report_output_option("the report")
@legacy_report_options
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bar; print only the summary.  [default: off]")
def validate(clean, noisy, model_path, weights, preset, max_pesq_drop, overlap, threads,
             download, outputs, json_path, md_path, quiet):
    """Compare a .tflite with the float Keras model on a clean/noisy set.

    Both enhance every noisy file through the same front end; prints per-file
    and mean PESQ-WB and STOI of each, their difference, and the SNR of the
    TFLite output against the float output. Exit 1 when the mean PESQ-WB drop
    exceeds --max-pesq-drop.
    """
    targets = report_targets(outputs, json_path, md_path)
    if not model_path.is_file():
        raise _fail(f"{model_path}: no such file")
    pairs = _validation_pairs(clean, noisy)
    model = load_model_or_exit(weights, preset, threads, download)
    report = _validate(model, preset, model_path, pairs, overlap, max_pesq_drop, threads,
                       quiet, weights)
    if not quiet:
        click.echo(report.table())
    import json

    write_reports(targets, lambda: json.dumps(report.to_dict(), indent=2, allow_nan=True) + "\n",
                  report.to_markdown)
    click.echo(report.summary_line())
    if not report.passed:
        raise _fail(
            f"mean PESQ-WB drop {report.pesq_drop:.4f} exceeds --max-pesq-drop {max_pesq_drop}"
        )
