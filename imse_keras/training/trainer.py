"""``IMSETrainer``: generator (+ optional metric discriminator) trained by ``fit``."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from imse_keras.config import IMSEConfig, get_config
from imse_keras.losses import LOSS_WEIGHTS, generator_losses

__all__ = ["IMSETrainer", "make_optimizer", "pesq_targets"]

_G_METRICS = ("loss", "mag", "ip", "gd", "iaf", "com")


def make_optimizer(lr: float = 5e-4, steps_per_epoch: int = 1000, decay: float = 0.99):
    """AdamW(0.8, 0.99, weight decay 0.01), lr x ``decay`` once per epoch.

    The decay is a staircase schedule on the optimizer's step counter, so a
    resumed run continues at the right rate.
    """
    schedule = keras.optimizers.schedules.ExponentialDecay(
        lr, decay_steps=steps_per_epoch, decay_rate=decay, staircase=True
    )
    return keras.optimizers.AdamW(schedule, beta_1=0.8, beta_2=0.99, weight_decay=0.01)


def pesq_targets(clean_wav, mag_c, pha, config: IMSEConfig):
    """Normalised PESQ-WB ``(PESQ - 1) / 3.5`` of each estimate; numpy.

    Args:
        clean_wav: ``[B, n]`` clean crops; mag_c, pha: ``[B, T, F]`` estimates.

    Returns:
        ``(targets [B] float32, ok)``: ``ok`` is 0.0 when PESQ failed for any
        item (the official recipe then skips the term for the batch).
    """
    from imse_keras.frontend import FrontEnd
    from imse_keras.metrics import pesq_wb

    clean_wav = np.asarray(clean_wav)
    est = FrontEnd.from_config(config).waveform(mag_c, pha, length=clean_wav.shape[-1])
    scores = []
    for c, e in zip(clean_wav, est):
        try:
            s = pesq_wb(c, e)
        except Exception:
            s = float("nan")
        scores.append(s)
    scores = np.asarray(scores, np.float32)
    if not np.all(np.isfinite(scores)):
        return np.zeros(len(scores), np.float32), np.float32(0.0)
    return ((scores - 1.0) / 3.5).astype(np.float32), np.float32(1.0)


class IMSETrainer(keras.Model):
    """Wraps an IMSE generator and an optional metric discriminator for ``fit``.

    ``compile(optimizer=g_opt, d_optimizer=d_opt)``; each ``train_step``
    updates D first (when present: ``MSE(D(c, c), 1) + MSE(D(c, est), pesq)``)
    on the detached estimate, then G with
    ``0.9 L_mag + 0.3 (L_IP + L_GD + L_IAF) + 0.1 L_com + 0.05 MSE(D(c, est), 1)``.

    Args:
        generator: model from :func:`imse_keras.model.build_model`.
        discriminator: model from :func:`imse_keras.discriminator.build_discriminator`, or None.
        config: front end used to rebuild waveforms for the PESQ target.
    """

    def __init__(self, generator, discriminator=None, config: IMSEConfig | str = "imse", **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.imse_config = get_config(config)
        names = list(_G_METRICS) + (["metric_g", "d_loss", "pesq_target"] if discriminator else [])
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        # The sub-models are functional models, built on construction.
        self.built = True

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def compile(self, optimizer, d_optimizer=None, **kwargs):
        super().compile(optimizer=optimizer, **kwargs)
        self.d_optimizer = d_optimizer
        # Built here on the generator's variables only, so that restoring a
        # backup (which builds an unbuilt optimizer on all variables) matches.
        optimizer.build(self.generator.trainable_variables)
        if self.discriminator is not None:
            if d_optimizer is None:
                raise ValueError("a discriminator needs a d_optimizer")
            d_optimizer.build(self.discriminator.trainable_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras reads one batch here and reduces it across replicas to build
        # compiled losses and metrics symbolically. There are none to build
        # (the sub-models are built on construction, optimizers in compile),
        # and the reduce fails under MultiWorkerMirroredStrategy (Keras 3.15).
        return

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _pesq(self, wav, mag, pha):
        cfg = self.imse_config
        t, ok = tf.numpy_function(
            lambda w, m, p: pesq_targets(w, m, p, cfg), [wav, mag, pha], [tf.float32, tf.float32],
            stateful=False,
        )
        t.set_shape([None])
        ok.set_shape([])
        return t, ok

    def train_step(self, data):
        x, y = data
        scale = 1.0 / tf.distribute.get_strategy().num_replicas_in_sync
        d = self.discriminator
        logs = {}
        g_tape = tf.GradientTape()
        with g_tape:
            mag_g, pha_g, com_g = self.generator(x, training=True)
        if d is not None:
            # D step on the detached estimate, outside the generator's tape.
            target, ok = self._pesq(y["wav"], mag_g, pha_g)
            est = ops.stop_gradient(mag_g)
            with tf.GradientTape() as d_tape:
                d_real = d([y["mag"], y["mag"]], training=True)
                d_fake = d([y["mag"], est], training=True)
                d_loss = ops.mean(ops.square(d_real - 1.0)) + ok * ops.mean(
                    ops.square(ops.squeeze(d_fake, -1) - target)
                )
                # Gradients are summed over replicas: scale inside the tape.
                d_scaled = d_loss * scale
            grads = d_tape.gradient(d_scaled, d.trainable_variables)
            self.d_optimizer.apply(grads, d.trainable_variables)
            logs["d_loss"] = d_loss
            logs["pesq_target"] = ops.mean(target) * 3.5 + 1.0
        with g_tape:  # resumes recording
            losses = generator_losses(y["mag"], y["pha"], y["com"], mag_g, pha_g, com_g)
            total = losses["loss"]
            if d is not None:
                metric_g = ops.mean(ops.square(d([y["mag"], mag_g], training=True) - 1.0))
                total = total + LOSS_WEIGHTS["metric"] * metric_g
                losses["loss"] = total
                logs["metric_g"] = metric_g
            g_scaled = total * scale
        g_vars = self.generator.trainable_variables
        grads = g_tape.gradient(g_scaled, g_vars)
        self.optimizer.apply(grads, g_vars)
        logs.update(losses)
        for k, v in logs.items():
            self.trackers[k].update_state(v)
        return _for_reduction({k: m.result() for k, m in self.trackers.items()})

    def test_step(self, data):
        x, y = data
        mag_g, pha_g, com_g = self.generator(x, training=False)
        losses = generator_losses(y["mag"], y["pha"], y["com"], mag_g, pha_g, com_g)
        for k, v in losses.items():
            self.trackers[k].update_state(v)
        return _for_reduction({k: self.trackers[k].result() for k in _G_METRICS})


def _for_reduction(logs: dict) -> dict:
    """Logs as Keras can reduce them across workers.

    Under a multi-worker strategy Keras 3.15 reduces each returned value with
    ``strategy.reduce("MEAN", v, axis=0)``, which needs a leading axis: the
    scalars become ``[1]`` and come back as the mean over workers.
    """
    strategy = tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode():
        return {k: ops.reshape(v, (1,)) for k, v in logs.items()}
    return logs
