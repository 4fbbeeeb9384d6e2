"""Phase from the phase decoder's two (real, imaginary) maps."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["Atan2"]


@keras.saving.register_keras_serializable(package="imse_keras")
class Atan2(keras.layers.Layer):
    """``atan2(imag, real)`` in radians, (-pi, pi].

    Shape:
        ``(real, imag)`` of one shape (``[B, T, F]`` in IMSE) -> the same shape.
    """

    def call(self, inputs):
        real, imag = inputs
        return ops.arctan2(imag, real)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return super().get_config()
