"""Callbacks of ``imse train``: full-utterance validation and generator checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

__all__ = ["GeneratorCheckpoint", "StopAfterEpoch", "Validation"]


class Validation(keras.callbacks.Callback):
    """PESQ-WB and STOI of the generator on full utterances.

    Each file is enhanced as at inference (RMS normalisation, segmentation,
    STFT) with :class:`imse_keras.enhance.Enhancer`. Scores land in the epoch
    logs as ``val_pesq`` and ``val_stoi`` (so put this callback before
    checkpoints and loggers); with ``every_steps`` they are also computed and
    printed every that many training steps.

    Args:
        pairs: ``Pair`` s (clean, noisy paths at 16 kHz).
        config: front end of the model.
        every_steps: extra validation every N steps (0: only at epoch end).
        max_files: validate on the first N pairs only (None: all).
    """

    def __init__(self, pairs, config, every_steps: int = 0, max_files: int | None = None, verbose: int = 1):
        super().__init__()
        self.pairs = list(pairs)[:max_files] if max_files else list(pairs)
        self.config = config
        self.every_steps = int(every_steps)
        self.verbose = verbose
        self._step = 0
        self.history: list[dict] = []

    def _backend(self):
        # A direct call in a tf.function rather than predict_on_batch, which
        # mis-assembles outputs under MirroredStrategy and is eager (slow)
        # when the model was compiled with run_eagerly.
        import tensorflow as tf

        if getattr(self, "_fn", None) is None:
            gen = self.model.generator
            self._fn = tf.function(lambda m, p: gen([m, p], training=False)[:2], reduce_retracing=True)

        def run(mag_c, pha):
            mag, pha_out = self._fn(tf.constant(mag_c), tf.constant(pha))
            return mag.numpy(), pha_out.numpy()

        return run

    def evaluate_now(self) -> dict:
        from imse_keras.audio_io import read_audio
        from imse_keras.enhance import Enhancer
        from imse_keras.metrics import pesq_wb, stoi

        enh = Enhancer(self._backend(), self.config)
        pesqs, stois = [], []
        for p in self.pairs:
            clean = read_audio(p.clean).samples.mean(axis=1)
            noisy = read_audio(p.noisy).samples.mean(axis=1)
            n = min(len(clean), len(noisy))
            out = enh.enhance_waveform(noisy[:n])
            pesqs.append(pesq_wb(clean[:n], out))
            stois.append(stoi(clean[:n], out))
        return {"val_pesq": float(np.nanmean(pesqs)), "val_stoi": float(np.nanmean(stois))}

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.every_steps and self._step % self.every_steps == 0:
            scores = self.evaluate_now()
            self.history.append({"step": self._step, **scores})
            if self.verbose:
                print(f"\nstep {self._step}: val_pesq {scores['val_pesq']:.3f} val_stoi {scores['val_stoi']:.3f}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        scores = self.evaluate_now()
        self.history.append({"epoch": epoch + 1, **scores})
        logs.update(scores)


class GeneratorCheckpoint(keras.callbacks.Callback):
    """Save the generator's weights: ``last.weights.h5`` every epoch and
    ``best.weights.h5`` when ``monitor`` (``val_pesq``, higher is better) improves.

    The files load with ``imse_keras.weights.load.load_model(path, preset=...)``
    and ``imse enhance --weights``. The best score survives a resume: it is
    kept in ``best.txt``.
    """

    def __init__(self, run_dir, monitor: str = "val_pesq"):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.monitor = monitor

    def _best(self) -> float:
        f = self.run_dir / "best.txt"
        try:
            return float(f.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return -math.inf

    def on_epoch_end(self, epoch, logs=None):
        from imse_keras.atomic import write_text_atomic

        gen = self.model.generator
        gen.save_weights(self.run_dir / "last.weights.h5")
        value = (logs or {}).get(self.monitor)
        if value is not None and np.isfinite(value) and value > self._best():
            gen.save_weights(self.run_dir / "best.weights.h5")
            write_text_atomic(self.run_dir / "best.txt", f"{value} epoch {epoch + 1}\n")


class StopAfterEpoch(keras.callbacks.Callback):
    """Raise ``KeyboardInterrupt``-like error after an epoch (tests of resume)."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise RuntimeError(f"simulated crash after epoch {epoch + 1}")
