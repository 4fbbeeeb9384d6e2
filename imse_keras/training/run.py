"""``train()``: the library function behind ``imse train``."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from imse_keras.training.cluster import ClusterError, cluster_errors, make_strategy, placement

__all__ = ["TrainOptions", "train", "package_versions"]


@dataclass(frozen=True)
class TrainOptions:
    """Every knob of a training run (saved as ``run.json``)."""

    data: str
    out: str
    preset: str = "imse"
    init: str = "none"  # "official" | "none" | a weights path
    epochs: int = 100
    steps_per_epoch: int = 1000
    batch_size: int = 2
    lr: float = 5e-4
    segment_size: int | None = None  # None: the preset's (30700)
    metric_disc: bool = False
    strategy: str = "default"  # "default" | "mirrored" | "multiworker"
    skip_bad: bool = True
    val_every: int = 0  # extra validation every N steps; 0: each epoch only
    val_files: int | None = None
    snr_range: tuple = (-5.0, 20.0)
    seed: int = 0
    cache_dir: str | None = None  # default: <data>/.imse_cache16k
    tensorboard: bool = True
    run_eagerly: bool = False  # debugging and fast tests: no graph tracing
    verbose: int = 1


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("imse-keras", "keras", "tensorflow", "numpy", "soxr", "pesq", "pystoi", "soundfile"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _prefixed(say, task: str):
    return lambda message: say(f"[{task}] {message}")


def _generator(init: str, config, preset: str):
    from imse_keras.model import build_model
    from imse_keras.weights.load import load_pretrained

    if init == "none":
        return build_model(config)
    if init == "official":
        return load_pretrained(None, preset=preset)
    return load_pretrained(init, preset=preset)


def _data(opts: TrainOptions, config, say):
    from imse_keras.audio_io import find_audio_files
    from imse_keras.data import detect_layout, mix_source, pair_source, prepare_clean, prepare_pairs

    layout = detect_layout(opts.data)
    cache = Path(opts.cache_dir or Path(opts.data) / ".imse_cache16k")
    if layout.kind == "mix":
        clean, report = prepare_clean(layout.train_clean, cache, opts.skip_bad)
        noise = find_audio_files([layout.train_other])
        source = mix_source(clean, noise, tuple(opts.snr_range), seed=opts.seed)
    else:
        clean, report = prepare_pairs(layout.train_clean, layout.train_other, cache, opts.skip_bad)
        source = pair_source(clean, seed=opts.seed)
    say(f"data: {layout.kind} layout, train: {report.summary()}")
    val, val_report = [], None
    if layout.val_clean is not None:
        val, val_report = prepare_pairs(layout.val_clean, layout.val_noisy, cache, opts.skip_bad)
        say(f"validation: {val_report.summary()}")
    return layout, source, report, val, val_report


def train(opts: TrainOptions, extra_callbacks=(), say=print) -> dict:
    """Train (or fine-tune) IMSE; see :class:`TrainOptions`.

    The run folder ``opts.out`` receives ``run.json`` (options, resolved
    config, package versions, seed, data report), ``best.weights.h5`` (by
    validation PESQ, when there is validation data), ``last.weights.h5``,
    ``log.csv``, ``tensorboard/`` and ``backup/`` (deleted when the run ends;
    a rerun with the same folder resumes from the last finished epoch).
    Under ``strategy="multiworker"`` only the chief writes there (see
    :mod:`imse_keras.training.cluster`); a lost worker raises
    :class:`~imse_keras.training.cluster.ClusterError`.

    Returns:
        ``{"history": ..., "run_dir": ..., "wall_s": ..., "sec_per_step": ...}``.
    """
    # The strategy first: a multi-worker one must precede every other TF op.
    strategy = make_strategy(opts.strategy)
    place = placement(strategy)
    if not place.is_chief:
        say = _prefixed(say, place.task)
    if place.num_workers < 2:
        return _train(opts, strategy, place, extra_callbacks, say)
    try:
        return _train(opts, strategy, place, extra_callbacks, say)
    except cluster_errors() as err:
        # A peer died during variable broadcast, a step or a checkpoint.
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        first = first[:240] + ("..." if len(first) > 240 else "")
        raise ClusterError(
            f"multiworker ({place.task}): a worker stopped or became unreachable ({first}); "
            "restart every worker with the same command to resume from the last epoch"
        ) from err


def _train(opts: TrainOptions, strategy, place, extra_callbacks, say) -> dict:
    import keras

    from imse_keras.atomic import write_text_atomic
    from imse_keras.config import get_config
    from imse_keras.discriminator import build_discriminator
    from imse_keras.data import make_dataset
    from imse_keras.training.callbacks import GeneratorCheckpoint, Validation
    from imse_keras.training.trainer import IMSETrainer, make_optimizer

    config = get_config(opts.preset)
    if opts.segment_size:
        config = config.replace(segment_size=int(opts.segment_size))
    keras.utils.set_random_seed(opts.seed)
    run_dir = place.run_dir(opts.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    layout, source, report, val, val_report = _data(opts, config, say)

    meta = {
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.__dict__.items()},
        "config": config.to_dict(),
        "seed": opts.seed,
        "versions": package_versions(),
        "layout": layout.kind,
        "train_files": report.ok,
        "skipped": report.bad,
        "val_files": len(val),
    }
    if place.is_chief:
        write_text_atomic(run_dir / "run.json", json.dumps(meta, indent=2, default=str) + "\n")

    global_batch = opts.batch_size * strategy.num_replicas_in_sync
    ds = make_dataset(source, config, global_batch, config.segment_size)
    with strategy.scope():
        gen = _generator(opts.init, config, opts.preset)
        disc = build_discriminator(config.num_freqs) if opts.metric_disc else None
        model = IMSETrainer(gen, disc, config)
        model.compile(
            optimizer=make_optimizer(opts.lr, opts.steps_per_epoch),
            d_optimizer=make_optimizer(opts.lr, opts.steps_per_epoch) if disc else None,
            run_eagerly=opts.run_eagerly,
        )

    callbacks = []
    if place.is_chief:
        # Only the chief validates and writes; the others keep a backup to resume.
        if val:
            callbacks.append(Validation(val, config, opts.val_every, opts.val_files, opts.verbose))
        callbacks += [
            GeneratorCheckpoint(run_dir),
            keras.callbacks.CSVLogger(str(run_dir / "log.csv"), append=True),
        ]
    callbacks.append(keras.callbacks.BackupAndRestore(str(run_dir / "backup")))
    if place.is_chief and opts.tensorboard and importlib.util.find_spec("tensorboard") is None:
        say("tensorboard is not installed: no TensorBoard logs (pip install tensorboard)")
    elif place.is_chief and opts.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), write_graph=False))
    callbacks += list(extra_callbacks)

    t0 = time.perf_counter()
    history = model.fit(
        ds, epochs=opts.epochs, steps_per_epoch=opts.steps_per_epoch,
        callbacks=callbacks, verbose=opts.verbose,
    )
    wall = time.perf_counter() - t0
    if not place.is_chief:
        shutil.rmtree(run_dir, ignore_errors=True)
    steps = len(history.epoch) * opts.steps_per_epoch
    return {
        "history": history.history,
        "epochs_run": list(history.epoch),
        "run_dir": str(run_dir),
        "wall_s": wall,
        "sec_per_step": wall / max(steps, 1),
        "model": model,
        "chief": place.is_chief,
        "num_workers": place.num_workers,
    }
