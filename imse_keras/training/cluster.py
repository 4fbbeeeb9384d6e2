"""The ``tf.distribute`` strategy of a training run, and its place in a cluster.

``--strategy multiworker`` reads the cluster from ``TF_CONFIG`` (the standard
TensorFlow variable: ``{"cluster": {"worker": ["host1:port", ...]},
"task": {"type": "worker", "index": i}}``). Every worker runs the same
command; worker 0 (or the task of type ``chief``) is the *chief*: it alone
writes the run folder (``run.json``, checkpoints, ``log.csv``, TensorBoard).
The other workers keep their Keras backups in a scratch folder
``<out>/.worker<i>`` (removed when the run ends), so hosts may share ``--out``
on a network file system or each have their own.

Failures are bounded in time rather than hangs: a worker waits at most
``IMSE_CLUSTER_TIMEOUT`` seconds (default 600) for the others to come up,
and once training runs, each worker checks its peers every
``IMSE_HEALTH_INTERVAL`` seconds (default 10); a dead peer aborts the
collectives and :func:`train` raises :class:`ClusterError`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ClusterError", "Placement", "make_strategy", "placement", "cluster_errors"]

STRATEGIES = ("default", "mirrored", "multiworker")


class ClusterError(RuntimeError):
    """A multi-worker run lost a worker or never assembled its cluster."""


@dataclass(frozen=True)
class Placement:
    """Where this process sits: ``is_chief`` writes the run folder."""

    is_chief: bool
    task: str  # e.g. "worker 1"; "local" outside a cluster
    num_workers: int

    def run_dir(self, out: str | os.PathLike) -> Path:
        """The chief's ``out``; a scratch ``out/.worker<i>`` for the others."""
        out = Path(out)
        return out if self.is_chief else out / f".{self.task.replace(' ', '')}"


def _env_seconds(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    try:
        seconds = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number of seconds. Received: {value!r}") from None
    if seconds < 1:
        raise ValueError(f"{name} must be >= 1. Received: {seconds}")
    return seconds


def _check_tf_config() -> dict:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError("--strategy multiworker needs TF_CONFIG (cluster and task); see README, Scaling")
    try:
        cfg = json.loads(raw)
        cluster, task = cfg["cluster"], cfg["task"]
        n = sum(len(v) for k, v in cluster.items() if k in ("chief", "worker"))
        if task["type"] not in cluster or int(task["index"]) >= len(cluster[task["type"]]):
            raise KeyError(f"task {task} is not in the cluster")
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"TF_CONFIG is not a valid cluster description ({err})") from None
    if n < 1:
        raise ValueError("TF_CONFIG lists no chief or worker")
    return cfg


def make_strategy(name: str):
    """The ``tf.distribute`` strategy ``name`` (one of :data:`STRATEGIES`).

    Create it before any other TensorFlow op of the process (a multi-worker
    strategy configures the collective ops of the eager context).
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name != "multiworker":
        raise ValueError(f"strategy must be default, mirrored or multiworker. Received: {name!r}")
    _check_tf_config()
    from tensorflow.python.distribute import collective_all_reduce_strategy as car

    ext = car.CollectiveAllReduceExtended
    # Bounded waits: the first all-reduce (all workers up) and peer health checks.
    ext._check_health_initial_timeout = _env_seconds("IMSE_CLUSTER_TIMEOUT", 600)
    ext._check_health_interval = _env_seconds("IMSE_HEALTH_INTERVAL", 10)
    ext._check_health_timeout = min(ext._check_health_timeout, ext._check_health_interval)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions(
                implementation=tf.distribute.experimental.CommunicationImplementation.RING)
        )
    except RuntimeError as err:  # "Timeout waiting for the cluster ..."
        raise ClusterError(f"multiworker: {err}; are all workers of TF_CONFIG started?") from err


def placement(strategy) -> Placement:
    """This process's role under ``strategy`` (chief or not)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return Placement(True, "local", 1)
    spec = resolver.cluster_spec().as_dict()
    n = sum(len(spec.get(k, [])) for k in ("chief", "worker"))
    kind, index = resolver.task_type, int(resolver.task_id or 0)
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in spec)
    return Placement(is_chief, f"{kind} {index}", n)


def cluster_errors() -> tuple:
    """The TensorFlow errors by which an aborted collective surfaces."""
    import tensorflow as tf

    return (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
            tf.errors.FailedPreconditionError, tf.errors.InternalError, tf.errors.AbortedError,
            tf.errors.UnknownError)
