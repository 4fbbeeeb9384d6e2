"""Keep every ``factor``-th frame along time."""

from __future__ import annotations

import keras

__all__ = ["TimeDecimate"]


@keras.saving.register_keras_serializable(package="imse_keras")
class TimeDecimate(keras.layers.Layer):
    """``x[:, ::factor]``: frames 0, factor, 2*factor, ...

    A conv with kernel height 1 and time stride s equals this decimation followed
    by the same conv with stride 1. The decoders use it that way because TF's
    CPU depthwise kernel rejects unequal strides such as (2, 1).

    Args:
        factor: the decimation factor along axis 1.

    Shape:
        ``[B, T, ...]`` -> ``[B, ceil(T / factor), ...]``.
    """

    def __init__(self, factor: int = 2, **kwargs):
        if int(factor) != factor or factor < 1:
            raise ValueError(f"factor must be a positive integer. Received: factor={factor}")
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        return x[:, :: self.factor]

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else -(-t // self.factor)) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config
