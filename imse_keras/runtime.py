"""Process-wide TensorFlow settings.

TensorFlow reads its thread-pool sizes once, when the first op runs, so
:func:`configure_tensorflow` must be called before any model is built. The
CLI and the test-suite call it first thing.
"""

from __future__ import annotations

import os

__all__ = ["configure_tensorflow", "DEFAULT_THREADS"]

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
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        # TF was already initialised by the caller; its own settings stand.
        pass
    # Grappler's remapper (oneDNN op fusion) emits a node with an empty op name
    # for MALA's graph in TF 2.21 and logs three ERROR lines per trace; turning
    # it off measured no slower (0.88 s vs 0.92 s for a 308-frame forward pass).
    tf.config.optimizer.set_experimental_options({"remapping": False})
    _configured = True
