"""Compressed complex spectrum from magnitude and phase."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["PolarToCartesian"]


@keras.saving.register_keras_serializable(package="imse_keras")
class PolarToCartesian(keras.layers.Layer):
    """``stack(mag * cos(pha), mag * sin(pha))`` on a new last axis.

    Shape:
        ``([B, T, F] mag, [B, T, F] pha)`` -> ``[B, T, F, 2]``.
    """

    def call(self, inputs):
        mag, pha = inputs
        return ops.stack([mag * ops.cos(pha), mag * ops.sin(pha)], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0]) + (2,)

    def get_config(self):
        return super().get_config()
