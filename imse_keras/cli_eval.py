"""``imse compare``, ``imse report`` and ``imse evaluate --no-reference``.

Thin click wrappers over :mod:`imse_keras.compare`, :mod:`imse_keras.report`
and :mod:`imse_keras.quality`; heavy imports happen inside the commands so
``imse --help`` stays instant. Errors exit 1 with one line; usage errors exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from imse_keras.cli_common import (
    download_option as _download_option,
    fail as _fail,
    load_model_or_exit,
    overlap_option as _overlap_option,
    preset_option as _preset_option,
    threads_option as _threads_option,
    weights_option as _weights_option,
)

__all__ = ["compare", "report", "run_no_reference", "PEER_CHOICES"]

#: Baselines ``imse compare --peers`` accepts (kept in sync with ``imse_keras.peers.BASELINES``).
PEER_CHOICES = ("noisy", "noisereduce", "rnnoise")


def _write_json(path: Path, payload: dict) -> None:
    from imse_keras.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(payload, indent=2, allow_nan=True) + "\n")


def run_no_reference(
    paths, json_path: Path | None = None, quiet: bool = False
) -> tuple[list, dict]:
    """Body of ``imse evaluate --no-reference DIR``: DNSMOS per file and mean.

    Prints the table to stdout and writes ``json_path`` when given. Raises
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
        raise _fail(str(err)) from err
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err
    click.echo(format_table(rows, mean))
    if json_path is not None:
        _write_json(Path(json_path), {"files": rows, "mean": mean, "source": "no-reference",
                                      "metric": "DNSMOS P.835 + P.808 (speechmos)"})
    return rows, mean


_limit_option = click.option("--limit", type=click.IntRange(1, None), default=None,
                             help="Use only the first N files (sorted by name).")


def _parse_onnx_peers(specs, stft_specs) -> dict:
    """``--peer NAME=PATH`` and ``--peer-stft NAME=...`` as ``{name: (path, stft)}``.

    A bare ``PATH`` is named after its file. Raises :class:`click.UsageError`.
    """
    from imse_keras.peers import parse_stft

    streams = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).stem, spec
        name, path = name.strip(), path.strip()
        if not name or not path:
            raise click.UsageError(f"--peer {spec!r}: expected NAME=PATH.onnx")
        if name in streams:
            raise click.UsageError(f"--peer {name!r} given twice")
        streams[name] = (Path(path), None)
    for spec in stft_specs:
        name, sep, text = spec.partition("=")
        if not sep or name.strip() not in streams:
            raise click.UsageError(f"--peer-stft {spec!r}: expected NAME=N_FFT,HOP[,WINDOW] "
                                   "for a NAME given with --peer")
        try:
            streams[name.strip()] = (streams[name.strip()][0], parse_stft(text))
        except ValueError as err:
            raise click.UsageError(str(err)) from err
    return streams


@click.command()
@click.option("--clean", required=True, type=click.Path(path_type=Path),
              help="Directory of clean reference files.")
@click.option("--noisy", required=True, type=click.Path(path_type=Path),
              help="Directory of noisy files (same names as --clean).")
@click.option("--peers", default=",".join(PEER_CHOICES), show_default=True,
              help=f"Comma-separated baselines among {', '.join(PEER_CHOICES)}; '' for none.")
@click.option("--imse/--no-imse", "with_imse", default=True, show_default=True,
              help="Include the Keras float IMSE model.")
@click.option("--tflite", multiple=True, type=click.Path(path_type=Path),
              help="An exported IMSE .tflite to include (repeatable).")
@click.option("--peer", "onnx_peers", multiple=True, metavar="NAME=PATH.onnx",
              help="A streaming ONNX enhancer to include (repeatable), run frame by frame "
              "with its caches; FastEnhancer and GTCRN STFT settings are recognised from the "
              "graph.")
@click.option("--peer-stft", multiple=True, metavar="NAME=N_FFT,HOP[,WINDOW]",
              help="STFT settings of --peer NAME (WINDOW hann or sqrt_hann), for a graph "
              "that is not recognised or to override.")
@_weights_option
@_preset_option
@_overlap_option
@_threads_option
@_download_option
@click.option("--dnsmos/--no-dnsmos", default=True, show_default=True,
              help="Score DNSMOS OVRL of every output (skipped with a note when the "
              "`quality` extra is missing).")
@_limit_option
@click.option("--markdown", "markdown_path", type=click.Path(path_type=Path), default=None,
              help="Also write the table as Markdown here.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Also write per-file and mean scores of every system as JSON here.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def compare(clean, noisy, peers, with_imse, tflite, onnx_peers, peer_stft, weights, preset,
            overlap, threads, download, dnsmos, limit, markdown_path, json_path, quiet):
    """Enhance the same files with IMSE and baselines; one table of scores.

    PESQ-WB, STOI, SI-SDR, CSIG/CBAK/COVL against --clean, DNSMOS OVRL,
    GMAC per second, parameters, latency, real-time factor on this machine
    (CPU and wall time) and model size. A system that cannot run here (a
    missing package or file) is reported and skipped.
    """
    from imse_keras.audio_io import AudioError
    from imse_keras.compare import compare_pairs, format_compare_table
    from imse_keras.evaluation import pair_files
    from imse_keras.peers import (
        PeerUnavailable, imse_keras_peer, imse_tflite_peer, load_peers, onnx_peer,
    )

    names = [n.strip() for n in peers.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEER_CHOICES]
    if unknown:
        raise click.UsageError(
            f"unknown peer {unknown[0]!r}; choose from {', '.join(PEER_CHOICES)}"
        )
    streams = _parse_onnx_peers(onnx_peers, peer_stft)
    try:
        pairs = pair_files(clean, noisy)[: limit or None]
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err
    systems, skipped = load_peers(names)
    for name, (path, stft) in streams.items():
        try:
            systems.append(onnx_peer(path, name=name, stft=stft))
        except PeerUnavailable as err:
            skipped[name] = str(err)
    imse_macs = None
    if with_imse:
        model = load_model_or_exit(weights, preset, threads, download)
        systems.append(imse_keras_peer(model, preset=preset, overlap=overlap))
        imse_macs = systems[-1].macs_per_second
    for path in tflite:
        try:
            systems.append(imse_tflite_peer(path, overlap=overlap, num_threads=threads or 2,
                                            macs_per_second=imse_macs))
        except PeerUnavailable as err:
            skipped[f"tflite:{path.name}"] = str(err)
    for name, reason in skipped.items():
        click.echo(f"skipping {name}: {reason}", err=True)
    if not systems:
        raise _fail("no system to compare (all were skipped)")
    if dnsmos:
        from imse_keras.quality import dnsmos_available

        ok, reason = dnsmos_available()
        if not ok:
            click.echo(f"no DNSMOS column: {reason}", err=True)
            dnsmos = False
    try:
        results = compare_pairs(pairs, systems, dnsmos=dnsmos, progress=not quiet)
    except (AudioError, ValueError) as err:
        raise _fail(str(err)) from err
    table = format_compare_table(results, skipped)
    click.echo(table)
    if markdown_path is not None:
        from imse_keras.atomic import write_text_atomic

        write_text_atomic(markdown_path, format_compare_table(results, skipped, notes=True) + "\n")
    if json_path is not None:
        _write_json(json_path, {
            "clean": str(clean), "noisy": str(noisy), "skipped": skipped,
            "systems": [{"name": r.name, "mean": r.mean, "rtf": r.rtf,
                         "process_seconds": r.process_seconds, "audio_seconds": r.audio_seconds,
                         "cpu_seconds": r.cpu_seconds, "cpu_rtf": r.cpu_rtf,
                         "load_average": r.load_average, "macs_per_second": r.macs_per_second,
                         "latency_ms": r.latency_ms,
                         "size_bytes": r.size_bytes, "params": r.params, "note": r.note,
                         "files": r.rows} for r in results],
        })


@click.command()
@click.option("--noisy", required=True, type=click.Path(path_type=Path),
              help="Directory (or file) of noisy recordings.")
@click.option("--clean", type=click.Path(path_type=Path), default=None,
              help="Directory of clean references (same names): adds PESQ, STOI, ... and the "
              "clean spectrogram.")
@click.option("--enhanced", type=click.Path(path_type=Path), default=None,
              help="Directory of already enhanced files (same names); default: enhance "
              "with IMSE now.")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="Directory for index.html and the PNGs (created if missing).")
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
