"""Bulk enhancement on a Ray cluster (``imse enhance ... --ray ADDRESS``).

The files are planned here (the same output names as the single-process
``imse enhance``), a Ray Data dataset of ``(src, dst)`` rows is mapped by a
pool of actors, each holding one model (Keras or LiteRT), and every file goes
through :func:`imse_keras.streaming.enhance_file_streaming`, the single-process path, so the
outputs are the same samples. Inputs and outputs are local paths or any
``pyarrow.fs`` URI (``s3://bucket/dir``, ``gs://...``, ``hdfs://...``,
``file:///abs/dir``): a URI's file is staged in a local temp folder, enhanced,
and uploaded under a hidden temp name then moved into place, so a reader sees
the old object or the whole new one (on S3 the move is a copy then delete; the
upload itself already completes atomically there).

Resume: an existing output is a finished one (writes are atomic), so a rerun
skips it. A bad file is reported and counted; the others are still written.
Ray is an optional extra: ``pip install "imse-keras[ray]"``.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imse_keras.config import DEFAULT_OVERLAP

__all__ = [
    "EnhancerSpec", "BulkResult", "plan_bulk", "split_finished", "enhance_one", "enhance_on_ray",
]


def _is_uri(path: str | os.PathLike) -> bool:
    return "://" in str(path)


@dataclass(frozen=True)
class EnhancerSpec:
    """How each actor builds its :class:`~imse_keras.enhance.Enhancer` (picklable).

    The fields are those of ``imse enhance``; ``build()`` goes through the same
    helpers as the single-process command, so a bad ``--weights`` or ``--model``
    is the same one-line error.
    """

    backend: str = "keras"  # "keras" | "tflite"
    weights: str | None = None
    preset: str = "imse"
    overlap: str = DEFAULT_OVERLAP
    batch_size: int = 4
    threads: int | None = None
    download: bool = True
    tflite_model: str | None = None
    max_minutes: float | None = None

    def build(self):
        from imse_keras.cli.options import load_model_or_exit, tflite_enhancer_or_exit

        if self.backend == "tflite":
            return tflite_enhancer_or_exit(self.tflite_model, self.preset, self.threads, self.overlap)
        from imse_keras.enhance import Enhancer

        model = load_model_or_exit(self.weights, self.preset, self.threads, self.download)
        return Enhancer.from_model(model, self.preset, batch_size=self.batch_size, overlap=self.overlap)


@dataclass
class BulkResult:
    """Counts of one bulk run; ``failed`` holds ``(src, one-line reason)``."""

    planned: int
    skipped: int = 0
    written: int = 0
    failed: list = field(default_factory=list)
    audio_seconds: float = 0.0
    wall_s: float = 0.0  # from the dataset's start: includes each actor's model loading
    cpu_s: float = 0.0  # CPU time of the actors' process on the files (their threads summed)


# --- planning ---------------------------------------------------------------

def _fs(uri: str):
    from pyarrow import fs as pafs

    try:
        return pafs.FileSystem.from_uri(uri)
    except (ValueError, OSError) as err:
        raise ValueError(f"{uri}: not a usable path or pyarrow filesystem URI ({err})") from None


def _list_uri(uri: str) -> list[str]:
    """Audio files of a URI (a file, or a folder's non-hidden files, sorted, not recursive)."""
    from pyarrow import fs as pafs

    from imse_keras.audio_io import AUDIO_EXTENSIONS, AudioError

    fs, path = _fs(uri)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.File:
        return [uri]
    if info.type != pafs.FileType.Directory:
        raise AudioError(uri, "no such file or folder")
    base = uri.rstrip("/")
    names = sorted(
        i.base_name for i in fs.get_file_info(pafs.FileSelector(path, recursive=False))
        if i.type == pafs.FileType.File and not i.base_name.startswith(".")
        and posixpath.splitext(i.base_name)[1].lower() in AUDIO_EXTENSIONS
    )
    if not names:
        raise AudioError(uri, f"no {' or '.join(AUDIO_EXTENSIONS)} files in this folder")
    return [f"{base}/{n}" for n in names]


def _join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}" if _is_uri(folder) else str(Path(folder) / name)


def plan_bulk(inputs: Sequence[str | os.PathLike], output: str | os.PathLike) -> list[tuple[str, str]]:
    """``(src, dst)`` for every input file, named as :func:`imse_keras.cli.outputs.plan_outputs` does.

    Local paths only: exactly ``plan_outputs``. With URIs: each output keeps
    its input's file name in the folder ``output`` (or is ``output`` itself for
    one input file and an audio-named output).

    Raises:
        AudioError: a missing input, a folder without audio files.
        ValueError: an unusable URI, two inputs with the same name, an output
            that would overwrite its input.
    """
    from imse_keras.audio_io import AUDIO_EXTENSIONS
    from imse_keras.cli.outputs import plan_outputs

    if not any(_is_uri(p) for p in [*inputs, output]):
        return [(str(s), str(d)) for s, d in plan_outputs(list(inputs), output)]
    files: list[str] = []
    for p in inputs:
        # Local inputs beside URI ones: a plain path is a file:// URI to pyarrow.
        files += _list_uri(str(p) if _is_uri(p) else Path(p).resolve().as_uri())
    output = str(output)
    single = (len(files) == 1 and posixpath.splitext(output)[1].lower() in AUDIO_EXTENSIONS
              and files[0].rstrip("/") == str(inputs[0] if _is_uri(inputs[0])
                                               else Path(inputs[0]).resolve().as_uri()).rstrip("/"))
    pairs = [(files[0], output)] if single else [(f, _join(output, posixpath.basename(f))) for f in files]
    seen: dict[str, str] = {}
    for src, dst in pairs:
        if dst in seen:
            raise ValueError(f"{src} and {seen[dst]} would both be written to {dst}")
        if dst == src:
            raise ValueError(f"refusing to overwrite the input {src}; choose another -o")
        seen[dst] = src
    return pairs


def _exists(path: str) -> bool:
    if not _is_uri(path):
        return Path(path).is_file()
    from pyarrow import fs as pafs

    fs, p = _fs(path)
    return fs.get_file_info(p).type == pafs.FileType.File


def split_finished(pairs: Sequence[tuple[str, str]]) -> tuple[list, list]:
    """``(to_do, finished)``: an existing output is finished (writes are atomic)."""
    todo, done = [], []
    for pair in pairs:
        (done if _exists(pair[1]) else todo).append(pair)
    return todo, done


# --- one file ---------------------------------------------------------------

def enhance_one(enhancer, src: str, dst: str, max_minutes: float | None = None) -> dict:
    """Enhance one file with :func:`imse_keras.streaming.enhance_file_streaming`; URIs are staged.

    Returns:
        ``enhance_file``'s dict. Raises what it raises (``AudioError``, ...);
        a URI that cannot be read or written raises ``OSError``.
    """
    from imse_keras.streaming import enhance_file_streaming as enhance_file

    if not _is_uri(src) and not _is_uri(dst):
        return enhance_file(enhancer, src, dst, max_minutes=max_minutes)
    with tempfile.TemporaryDirectory(prefix="imse_ray_") as tmp:
        local_src = src
        if _is_uri(src):
            fs, path = _fs(src)
            local_src = os.path.join(tmp, "in", posixpath.basename(path))
            os.makedirs(os.path.dirname(local_src))
            with fs.open_input_stream(path) as f_in, open(local_src, "wb") as f_out:
                while chunk := f_in.read(1 << 20):
                    f_out.write(chunk)
        if not _is_uri(dst):
            info = enhance_file(enhancer, local_src, dst, max_minutes=max_minutes)
        else:
            fs, path = _fs(dst)
            local_dst = os.path.join(tmp, "out", posixpath.basename(path))
            info = enhance_file(enhancer, local_src, local_dst, max_minutes=max_minutes)
            parent = posixpath.dirname(path)
            fs.create_dir(parent, recursive=True)
            part = posixpath.join(parent, f".{posixpath.basename(path)}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                with open(local_dst, "rb") as f_in, fs.open_output_stream(part) as f_out:
                    while chunk := f_in.read(1 << 20):
                        f_out.write(chunk)
                fs.move(part, path)
            except BaseException:
                try:
                    fs.delete_file(part)
                except OSError:
                    pass
                raise
        return {**info, "input": src, "output": dst}


class _EnhanceActor:
    """A Ray Data actor: one model, then files one by one."""

    def __init__(self, spec: EnhancerSpec):
        self.spec, self.error = spec, None
        try:
            self.enhancer = spec.build()
        except Exception as err:  # reported for each file rather than as a crashed pool
            msg = getattr(err, "message", None) or str(err) or type(err).__name__
            self.error = f"cannot build the model: {msg.splitlines()[0]}"

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        from imse_keras.audio_io import AudioError

        rows: dict[str, list] = {"src": [], "dst": [], "error": [], "seconds": [], "cpu_s": []}
        for src, dst in zip(batch["src"], batch["dst"]):
            src, dst, error, seconds = str(src), str(dst), "", 0.0
            cpu0 = time.process_time()
            if self.error:
                error = f"{src}: {self.error}"
            else:
                try:
                    seconds = enhance_one(self.enhancer, src, dst, self.spec.max_minutes)["seconds"]
                except (AudioError, ValueError) as err:
                    error = str(err).splitlines()[0] if str(err) else f"{src}: failed"
                except Exception as err:  # one bad file must not stop the others
                    error = f"{src}: {type(err).__name__}: {err}".splitlines()[0]
            for key, value in zip(rows, (src, dst, error, seconds, time.process_time() - cpu0)):
                rows[key].append(value)
        return {"src": np.array(rows["src"], dtype=object), "dst": np.array(rows["dst"], dtype=object),
                "error": np.array(rows["error"], dtype=object),
                "seconds": np.array(rows["seconds"], dtype=np.float64),
                "cpu_s": np.array(rows["cpu_s"], dtype=np.float64)}


# --- the run ----------------------------------------------------------------

def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, not after Ray's 30 s client timeout, on a closed ``[ray://]host:port``."""
    import re
    import socket

    m = re.fullmatch(r"(?:ray://)?([^:/]+):(\d+)", address)
    if m is None:
        return  # "auto" and other forms: Ray resolves them
    try:
        socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout).close()
    except OSError as err:
        raise ValueError(f"cannot connect to the Ray cluster at {address}: {err}") from None


def _start_ray(address: str, workers: int, cpus_per_worker: int) -> bool:
    """Connect to ``address`` (``local``: start a private instance). True if we started it."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network calls
    try:
        import ray
    except ImportError as err:
        raise ValueError('--ray needs Ray: pip install "imse-keras[ray]"') from err
    if ray.is_initialized():
        return False
    if address == "local":
        ray.init(num_cpus=max(os.cpu_count() or 1, workers * cpus_per_worker), include_dashboard=False,
                 log_to_driver=False, object_store_memory=256 << 20, configure_logging=False)
        return True
    _check_reachable(address)
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ValueError(f"cannot connect to the Ray cluster at {address}: "
                         f"{str(err).splitlines()[0] if str(err) else type(err).__name__}") from None
    return True


def enhance_on_ray(
    pairs: Sequence[tuple[str, str]],
    spec: EnhancerSpec,
    address: str = "local",
    workers: int | None = None,
    on_file: Callable[[dict], None] | None = None,
) -> BulkResult:
    """Enhance ``pairs`` on Ray with ``workers`` actors (one model each).

    Args:
        pairs: ``(src, dst)`` from :func:`plan_bulk`; finished ones are skipped.
        spec: how each actor builds its enhancer.
        address: ``local`` (a private instance on this machine, stopped at
            the end), ``auto`` (the cluster this machine belongs to) or
            ``ray://host:10001``.
        workers: actors; default: the cluster's CPUs / threads per actor.
        on_file: called with each finished row ``{src, dst, error, seconds, cpu_s}``
            (progress and error lines).

    Raises:
        ValueError: Ray missing, the cluster unreachable or too small.
    """
    todo, done = split_finished(pairs)
    result = BulkResult(planned=len(pairs), skipped=len(done))
    if not todo:
        return result
    cpus = int(spec.threads or os.environ.get("IMSE_THREADS", 2))
    started = _start_ray(address, workers or 1, cpus)
    import ray

    try:
        total = int(ray.cluster_resources().get("CPU", 1))
        if workers is None:
            workers = max(1, total // cpus)
        workers = min(workers, len(todo))
        if workers * cpus > total:
            raise ValueError(f"{workers} worker(s) x {cpus} thread(s) need {workers * cpus} CPUs; "
                             f"the Ray cluster has {total} (lower --ray-workers or --threads)")
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        t0 = time.perf_counter()
        ds = ray.data.from_items([{"src": s, "dst": d} for s, d in todo], override_num_blocks=len(todo))
        ds = ds.map_batches(_EnhanceActor, fn_constructor_kwargs={"spec": spec}, batch_size=1,
                            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=cpus)
        for row in ds.iter_rows():
            row = {"src": str(row["src"]), "dst": str(row["dst"]), "error": str(row["error"]),
                   "seconds": float(row["seconds"]), "cpu_s": float(row["cpu_s"])}
            result.cpu_s += row["cpu_s"]
            if row["error"]:
                result.failed.append((row["src"], row["error"]))
            else:
                result.written += 1
                result.audio_seconds += row["seconds"]
            if on_file is not None:
                on_file(row)
        result.wall_s = time.perf_counter() - t0
    finally:
        if started:
            ray.shutdown()
    return result


def run_enhance_command(inputs, output, address: str, workers: int | None, spec: EnhancerSpec,
                        quiet: bool = False) -> None:
    """The body of ``imse enhance --ray``: plan, skip finished, enhance, report.

    Prints an ``error:`` line per failed file, a progress bar (unless
    ``quiet``) and a final count; raises ``click.ClickException`` (exit 1) if
    any file failed or the run could not start.
    """
    import click

    from imse_keras.audio_io import AudioError
    from imse_keras.cli.options import fail

    try:
        pairs = plan_bulk([str(p) for p in inputs], str(output))
    except (AudioError, ValueError) as err:
        raise fail(str(err)) from err
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), initial=len(split_finished(pairs)[1]), unit="file",
                   desc="enhancing (ray)")

    def on_file(row):
        if row["error"]:
            (bar.write if bar else (lambda m: click.echo(m, err=True)))(f"error: {row['error']}")
        if bar:
            bar.update(1)

    try:
        res = enhance_on_ray(pairs, spec, address, workers, on_file=on_file)
    except ValueError as err:
        raise fail(str(err)) from err
    finally:
        if bar:
            bar.close()
    if not quiet:
        rtf = res.wall_s / res.audio_seconds if res.audio_seconds else float("nan")
        click.echo(
            f"enhanced {res.written}/{res.planned} file(s) on Ray ({res.skipped} already done, "
            f"{len(res.failed)} failed), {res.audio_seconds:.1f} s of audio in {res.wall_s:.1f} s "
            f"(real-time factor {rtf:.2f}) -> {output}", err=True)
    if res.failed:
        raise fail(f"{len(res.failed)} file(s) failed, of {res.planned} (listed above); "
                   "nothing was written for them")
