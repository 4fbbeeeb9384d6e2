"""The decoders' frequency upsampler: 1x1 conv, PixelShuffle, every other frame."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["SubPixelUpsample"]


@keras.saving.register_keras_serializable(package="imse_keras")
class SubPixelUpsample(keras.layers.Layer):
    """Double F: what IMSE's decoders do before their (1, 3) depthwise conv.

    The official decoder applies a bias-free 1x1 conv ``C_in -> 4 * filters``,
    ``torch.nn.PixelShuffle(2)`` (``[B, T, F, 4C] -> [B, 2T, 2F, C]``) and a
    depthwise conv of stride 2 in time, which keeps frames ``0, 2, 4, ...``.
    Output channel ``c * 4 + i * 2 + j`` of the 1x1 conv lands on pixel
    ``(2t + i, 2f + j)``, so the kept frames (``i = 0``) read only channels
    ``c * 4 + j``. This layer holds the official ``[1, 1, C_in, 4 * filters]``
    kernel (the checkpoints load unchanged) but computes only those
    ``2 * filters`` channels, ordered ``j * filters + c``: the frequency
    interleave is then a reshape. The result equals conv -> PixelShuffle ->
    ``x[:, ::2]`` value for value (the same dot products), at half the
    multiply-adds and with no transpose, gather or strided slice.

    Args:
        filters: output channels C (the kernel has ``4 * filters`` outputs).

    Shape:
        ``[B, T, F, C_in]`` -> ``[B, T, 2F, filters]``; F must be static.
    """

    def __init__(self, filters: int, **kwargs):
        if int(filters) != filters or filters <= 0:
            raise ValueError(f"filters must be a positive integer. Received: filters={filters}")
        super().__init__(**kwargs)
        self.filters = int(filters)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(1, 1, int(input_shape[-1]), 4 * self.filters),
            initializer="glorot_uniform",
        )

    def call(self, x):
        c = self.filters
        # Output channel j * C + c of the kept half is official channel c * 4 + j.
        index = [k * 4 + j for j in range(2) for k in range(c)]
        kernel = ops.take(self.kernel, ops.convert_to_tensor(index, dtype="int32"), axis=3)
        y = ops.conv(x, kernel, padding="valid")  # [B, T, F, 2C]
        shape = ops.shape(y)
        f = x.shape[2]
        if f is None:
            raise ValueError(f"F (axis 2) must be static. Received: shape={x.shape}")
        return ops.reshape(y, (shape[0], shape[1], 2 * f, c))

    def compute_output_shape(self, input_shape):
        b, t, f, _ = input_shape
        return (b, t, None if f is None else 2 * f, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters})
        return config
