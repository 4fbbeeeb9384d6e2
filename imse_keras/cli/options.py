"""The one vocabulary of the ``imse`` subcommands: shared options and helpers.

No heavy imports here (click and the config registry only), so ``imse --help``
stays instant. Every subcommand takes its common options from this module, so
a flag is spelled and means the same everywhere:

- ``-o/--output``: what a command writes; a file when the value has an
  extension (``a.tflite``, ``clean.wav``, ``scores.json``), else a folder
  (a trailing ``/`` always means a folder).
- ``--model``: an exported ``.tflite``; ``--weights``: Keras/PyTorch weights.
- ``--preset``: one of :func:`imse_keras.config.preset_names`.
- ``--threads``: every thread count of a command (TensorFlow intra-op *and*
  the LiteRT interpreter).

Old spellings stay for one release as hidden aliases that print one
deprecation line to stderr (:class:`Command`).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from imse_keras.config import DEFAULT_OVERLAP, preset_names

__all__ = [
    "OVERLAP_CHOICES", "PRESET_CHOICES", "Command", "weights_option", "preset_option",
    "threads_option", "overlap_option", "download_option", "quiet_option", "model_option",
    "report_output_option", "fail", "deprecated", "resolve_threads", "is_file_target",
    "report_targets", "load_model_or_exit", "tflite_enhancer_or_exit",
]

OVERLAP_CHOICES = ("crossfade", "official")
PRESET_CHOICES = preset_names()


def deprecated(old: str, new: str) -> None:
    """Print the one stderr line an old spelling costs (it still works)."""
    click.echo(f"warning: {old} is deprecated, use {new} (the old spelling will be removed "
               "in the next release)", err=True)


class Command(click.Command):
    """A click command that accepts old option spellings as hidden aliases.

    ``aliases`` maps an old flag to ``(new flag, value rewrite or None)``; the
    command line is rewritten before parsing (``--old V`` and ``--old=V``), and
    each old flag used prints one deprecation line to stderr.
    """

    def __init__(self, *args, aliases: dict | None = None, **kwargs):
        self.aliases = dict(aliases or {})
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx, args):
        out, warned = [], set()
        items = iter(args)
        for arg in items:
            if arg == "--":
                out.append(arg)
                out.extend(items)
                break
            flag, eq, value = arg.partition("=")
            if flag in self.aliases:
                new, rewrite = self.aliases[flag]
                if flag not in warned:
                    deprecated(flag, new)
                    warned.add(flag)
                if rewrite is not None and not eq:
                    value = next(items, None)
                    if value is None:  # let click report the missing value
                        out.append(new)
                        continue
                    eq = "="
                out.append(f"{new}={rewrite(value) if rewrite else value}" if eq else new)
            else:
                out.append(arg)
        return super().parse_args(ctx, out)


def as_folder(value: str) -> str:
    """``value`` with a trailing separator: a folder under the ``-o`` rule."""
    return os.path.join(value, "")


def is_file_target(path: str | os.PathLike) -> bool:
    """The ``-o`` rule: a file when the name has an extension, else a folder.

    A trailing separator or an existing folder always means a folder.
    """
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        return False
    return Path(text).suffix != ""


def resolve_threads(threads: int | None) -> int:
    """``--threads``, else ``$IMSE_THREADS``, else 2."""
    from imse_keras.runtime import DEFAULT_THREADS

    return int(threads) if threads else int(os.environ.get("IMSE_THREADS", DEFAULT_THREADS))


weights_option = click.option(
    "--weights",
    "-w",
    default=None,
    metavar="NAME|PATH",
    help="Official checkpoint name (g_best_pesq_3.399, g_best_pesq_3.373, or alias 3.399/3.373), "
    "a PyTorch checkpoint file, or a Keras .weights.h5 file.  [default: g_best_pesq_3.399, "
    "downloaded once (or taken from $IMSE_WEIGHTS)]",
)
preset_option = click.option(
    "--preset",
    type=click.Choice(PRESET_CHOICES),
    default="imse",
    show_default=True,
    help="Architecture (imse_keras.PRESETS).",
)
threads_option = click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help="Threads of TensorFlow (intra-op) and of the LiteRT interpreter alike  "
    "[default: $IMSE_THREADS or 2]",
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
quiet_option = click.option("--quiet", "-q", is_flag=True, default=False,
                            help="No progress bars.  [default: off]")


def model_option(help: str, **kwargs):
    """``--model PATH.tflite`` (an exported model; ``--weights`` is for Keras)."""
    return click.option("--model", "model", type=click.Path(dir_okay=False, path_type=Path),
                        default=None, help=help, **kwargs)


#: Formats of a written score report, by extension.
REPORT_FORMATS = {".json": "json", ".md": "markdown"}


def report_output_option(what: str):
    """``-o/--output FILE.json|FILE.md`` (repeatable) for commands that write scores."""
    return click.option(
        "--output", "-o", "outputs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
        help=f"Also write {what} here: .json (every number) or .md (the table); repeatable.  "
        "[default: print only]",
    )


def report_targets(outputs, json_path=None, md_path=None) -> dict[str, list[Path]]:
    """``{"json": [...], "markdown": [...]}`` from ``-o`` values and the old flags.

    ``--json``/``--markdown`` (deprecated) keep their meaning whatever the
    extension. Raises :class:`click.UsageError` for any other extension.
    """
    targets: dict[str, list[Path]] = {"json": [], "markdown": []}
    for path in outputs:
        kind = REPORT_FORMATS.get(Path(path).suffix.lower())
        if kind is None:
            raise click.UsageError(
                f"-o {path}: write scores as .json or .md (got {Path(path).suffix or 'no extension'})"
            )
        targets[kind].append(Path(path))
    if json_path is not None:
        deprecated("--json PATH", "-o PATH.json")
        targets["json"].append(Path(json_path))
    if md_path is not None:
        deprecated("--markdown PATH", "-o PATH.md")
        targets["markdown"].append(Path(md_path))
    return targets


def legacy_report_options(func):
    """The hidden ``--json``/``--markdown`` aliases of ``-o``."""
    func = click.option("--markdown", "md_path", type=click.Path(dir_okay=False, path_type=Path),
                        default=None, hidden=True, help="Deprecated: -o PATH.md.")(func)
    return click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
                        default=None, hidden=True, help="Deprecated: -o PATH.json.")(func)


def write_reports(targets: dict[str, list[Path]], json_text=None, markdown_text=None) -> None:
    """Write each target atomically; ``*_text`` are callables (computed on demand)."""
    from imse_keras.atomic import write_text_atomic

    for path in targets["json"]:
        write_text_atomic(path, json_text())
    for path in targets["markdown"]:
        write_text_atomic(path, markdown_text())


def fail(message: str) -> click.ClickException:
    """A one-line error (exit 1)."""
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

    It runs one segment per interpreter call (the exported graph's batch is 1).
    A file that LiteRT cannot load, or whose input shape does not fit the
    preset's segment, becomes a one-line exit.
    """
    from imse_keras.config import get_config
    from imse_keras.enhance import Enhancer
    from imse_keras.export.runner import LiteRTModel, tflite_backend

    cfg = get_config(preset)
    try:
        runner = LiteRTModel(path, num_threads=resolve_threads(threads))
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
