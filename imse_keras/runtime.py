"""TensorFlow settings: scoped ones for the library, process-wide ones for the CLI.

The library (``IMSE``, ``Enhancer``) needs nothing configured by hand and never
changes a user's global TensorFlow settings: the one graph option the model
needs is set around its own calls by :func:`graph_options` and restored after.

:func:`configure_tensorflow` is for a process that owns TensorFlow (the ``imse``
command, the test-suite): it fixes the thread pools (read once, when the first
op runs, so call it before any model is built) and sets the same graph option
for the whole process.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import tempfile

__all__ = [
    "configure_tensorflow", "exit_on_sigterm", "filter_native_logs", "graph_options",
    "DEFAULT_THREADS",
]

#: Intra-op threads used unless ``IMSE_THREADS`` says otherwise. Two matches the
#: project's reference machine; more cores help little for a 0.43M model.
DEFAULT_THREADS = 2

_configured = False


def configure_tensorflow(threads: int | None = None) -> None:
    """Quiet TF's C++ logging and fix its thread pools.

    Args:
        threads: intra-op threads; ``None`` reads ``IMSE_THREADS`` (default 2).
            Inter-op threads are set to 1: the model is one sequential graph.
    """
    global _configured
    if threads is None:
        threads = int(os.environ.get("IMSE_THREADS", DEFAULT_THREADS))
    if threads < 1:
        raise ValueError(f"threads must be >= 1. Received: threads={threads}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # oneDNN is TF's default on x86; saying so explicitly silences the notice
    # TF prints at import ("oneDNN custom operations are on ...").
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    if _configured:
        return
    tf = _import_tensorflow_quietly()

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        # TF was already initialised by the caller; its own settings stand.
        pass
    tf.config.optimizer.set_experimental_options(_GRAPH_OPTIONS)
    _configured = True


# Grappler's remapper (oneDNN op fusion) emits a node with an empty op name for
# MALA's graph in TF 2.21 and logs three ERROR lines per trace (the pass then
# fails and is skipped); turning it off measured no slower (0.88 s vs 0.92 s for a
# 308-frame forward pass).
_GRAPH_OPTIONS = {"remapping": False}


@contextlib.contextmanager
def graph_options():
    """Run the model's graphs with Grappler's remapper off, then restore the user's.

    TensorFlow reads these options when a ``tf.function`` is called, so the
    setting covers exactly the calls made inside the block; outside it the
    user's options (``tf.config.optimizer.get_experimental_options()``) are
    unchanged. Not thread-safe against another thread changing the same options.
    """
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options()
    if all(before.get(k) == v for k, v in _GRAPH_OPTIONS.items()):
        yield
        return
    tf.config.optimizer.set_experimental_options(_GRAPH_OPTIONS)
    try:
        yield
    finally:
        _restore_graph_options(tf, before)


def _restore_graph_options(tf, before: dict) -> None:
    """Put back options as they were, unset ones unset (not merely "on")."""
    tf.config.optimizer.set_experimental_options(
        {k: before[k] for k in _GRAPH_OPTIONS if k in before}
    )
    unset = [k for k in _GRAPH_OPTIONS if k not in before]
    if not unset:
        return
    from tensorflow.python.eager import context  # no public way to unset an option

    ctx = context.context()
    store = getattr(ctx, "_optimizer_experimental_options", None)
    if isinstance(store, dict):
        for k in unset:
            store.pop(k, None)
        tf.config.optimizer.set_experimental_options({})  # drops the cached call options
    else:  # a TF without that store: "on" is what an unset option means
        tf.config.optimizer.set_experimental_options({k: True for k in unset})


# Lines TF's C++ code writes while it loads, before absl logging is set up, so
# TF_CPP_MIN_LOG_LEVEL does not reach them (and TF 2.21 writes them twice, once
# per shared library): the absl notice and INFO/WARNING lines such as
# "oneDNN custom operations are on".
_PRE_INIT_NOTICE = re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\)")
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]")


def _import_tensorflow_quietly():
    """``import tensorflow`` under :func:`filter_native_logs` (TF's load-time lines)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with filter_native_logs():
        import tensorflow as tf
    return tf


# TFLite's own logger ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.").
_TFLITE_LINE = re.compile(r"^(INFO|WARNING|ERROR): ")


@contextlib.contextmanager
def filter_native_logs():
    """Drop the C++ log lines TF_CPP_MIN_LOG_LEVEL asks to hide, written inside the block.

    TF (at import, before absl logging is set up) and LiteRT (at the first
    invoke) write them to file descriptor 2 directly, past Python and past
    TF_CPP_MIN_LOG_LEVEL; so the descriptor is pointed at a temp file for the
    block, and what it caught is then written back to stderr, less absl and
    TFLite lines below the level (1 hides INFO, 2 also WARNING, 3 also ERROR)
    and absl's pre-init notice. Level 0 (or unset) changes nothing.
    """
    try:
        level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") or 0)
    except ValueError:
        level = 0
    if level < 1:
        yield
        return
    hidden = ("I", "W", "E")[: min(level, 3)]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode(errors="replace").splitlines(keepends=True)
            kept = [line for line in lines if not _hidden_line(line, hidden)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _hidden_line(line: str, hidden: tuple[str, ...]) -> bool:
    if _PRE_INIT_NOTICE.match(line):
        return True
    m = _ABSL_LINE.match(line) or _TFLITE_LINE.match(line)
    return bool(m) and m.group(1)[0] in hidden


class _Terminated(SystemExit):
    """SIGTERM, raised where the process is, so ``finally`` blocks run."""


def exit_on_sigterm() -> None:
    """Make SIGTERM exit like Ctrl-C does: unwinding, so temp files are removed.

    Python's default for SIGTERM is to die at once, which leaves the temp file
    of an atomic write behind; with this handler it raises ``SystemExit(143)``
    (128 + SIGTERM) instead, which every ``except BaseException`` clean-up sees.
    A second SIGTERM during the clean-up is ignored. Main thread only (a no-op
    elsewhere, as Python allows signal handlers only there).
    """

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Terminated(128 + signum)

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        pass
