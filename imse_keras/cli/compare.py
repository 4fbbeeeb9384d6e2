"""``imse compare``: IMSE and baselines on the same files, one table of scores.

A thin click wrapper over :mod:`imse_keras.compare` and :mod:`imse_keras.peers`;
heavy imports happen inside the command. Errors exit 1 with one line; usage
errors exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from imse_keras.cli.options import (
    Command,
    download_option as _download_option,
    fail as _fail,
    legacy_report_options,
    load_model_or_exit,
    overlap_option as _overlap_option,
    preset_option as _preset_option,
    quiet_option,
    report_output_option,
    report_targets,
    resolve_threads,
    threads_option as _threads_option,
    weights_option as _weights_option,
    write_reports,
)

__all__ = ["compare", "PEER_CHOICES", "limit_option"]

#: Baselines ``imse compare --peers`` accepts (kept in sync with ``imse_keras.peers.BASELINES``).
PEER_CHOICES = ("noisy", "noisereduce", "rnnoise")

limit_option = click.option("--limit", type=click.IntRange(1, None), default=None,
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


@click.command(cls=Command, aliases={"--tflite": ("--model", None)})
@click.option("--clean", required=True, type=click.Path(path_type=Path),
              help="Directory of clean reference files.")
@click.option("--noisy", required=True, type=click.Path(path_type=Path),
              help="Directory of noisy files (same names as --clean).")
@click.option("--peers", default=",".join(PEER_CHOICES), show_default=True,
              help=f"Comma-separated baselines among {', '.join(PEER_CHOICES)}; '' for none.")
@click.option("--imse/--no-imse", "with_imse", default=True, show_default=True,
              help="Include the Keras float IMSE model.")
@click.option("--model", "models", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="An exported IMSE .tflite to include (repeatable).  [default: none]")
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
@limit_option
@report_output_option("the table (.md, with notes) or per-file and mean scores of every "
                      "system (.json)")
@legacy_report_options
@quiet_option
def compare(clean, noisy, peers, with_imse, models, onnx_peers, peer_stft, weights, preset,
            overlap, threads, download, dnsmos, limit, outputs, json_path, md_path, quiet):
    """Enhance the same files with IMSE and baselines; one table of scores.

    PESQ-WB, STOI, SI-SDR, CSIG/CBAK/COVL against --clean, DNSMOS OVRL,
    GMAC per second, parameters, latency, real-time factor on this machine
    (CPU and wall time) and model size. A system that cannot run here (a
    missing package or file) is reported and skipped.
    """
    from imse_keras.audio_io import AudioError
    from imse_keras.compare import compare_pairs, format_compare_table
    from imse_keras.metrics.evaluate import pair_files
    from imse_keras.peers import (
        PeerUnavailable, imse_keras_peer, imse_tflite_peer, load_peers, onnx_peer,
    )

    targets = report_targets(outputs, json_path, md_path)
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
    for path in models:
        try:
            systems.append(imse_tflite_peer(path, overlap=overlap,
                                            num_threads=resolve_threads(threads),
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
    payload = {
        "clean": str(clean), "noisy": str(noisy), "skipped": skipped,
        "systems": [{"name": r.name, "mean": r.mean, "rtf": r.rtf,
                     "process_seconds": r.process_seconds, "audio_seconds": r.audio_seconds,
                     "cpu_seconds": r.cpu_seconds, "cpu_rtf": r.cpu_rtf,
                     "load_average": r.load_average, "macs_per_second": r.macs_per_second,
                     "latency_ms": r.latency_ms,
                     "size_bytes": r.size_bytes, "params": r.params, "note": r.note,
                     "files": r.rows} for r in results],
    }
    write_reports(targets, lambda: json.dumps(payload, indent=2, allow_nan=True) + "\n",
                  lambda: format_compare_table(results, skipped, notes=True) + "\n")
