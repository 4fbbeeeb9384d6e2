"""Learnable sigmoid with one slope per frequency bin (the magnitude mask)."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["LearnableSigmoid"]


@keras.saving.register_keras_serializable(package="imse_keras")
class LearnableSigmoid(keras.layers.Layer):
    """``beta * sigmoid(slope_f * x)``, one trainable slope per bin (init 1).

    Args:
        num_freqs: F, the length of the frequency axis (axis 2).
        beta: output scale; the mask lies in (0, beta).

    Shape:
        ``[B, T, F, 1]`` -> ``[B, T, F, 1]``.
    """

    def __init__(self, num_freqs: int, beta: float = 2.0, **kwargs):
        if num_freqs <= 0 or beta <= 0:
            raise ValueError(
                f"num_freqs and beta must be > 0. Received: num_freqs={num_freqs}, beta={beta}"
            )
        super().__init__(**kwargs)
        self.num_freqs = int(num_freqs)
        self.beta = float(beta)

    def build(self, input_shape):
        if input_shape[2] != self.num_freqs:
            raise ValueError(
                f"Expected F={self.num_freqs} on axis 2. Received: input_shape={input_shape}"
            )
        self.slope = self.add_weight(name="slope", shape=(self.num_freqs,), initializer="ones")

    def call(self, x):
        return self.beta * ops.sigmoid(x * self.slope[:, None])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"num_freqs": self.num_freqs, "beta": self.beta})
        return config
