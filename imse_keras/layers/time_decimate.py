"""Keep every ``factor``-th frame along time."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

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
        r = self.factor
        t, rest = x.shape[1], tuple(x.shape[2:])
        if t is not None and t % r == 0 and r > 1 and all(d is not None for d in rest):
            # Static and divisible: frames as [T/r, r, ...] and a unit-stride slice
            # of the first of each r (LiteRT's XNNPACK delegates that, not a
            # strided one). The same frames as x[:, ::r].
            y = ops.reshape(x, (-1, t // r, r * int(np.prod(rest))))
            return ops.reshape(y[..., : int(np.prod(rest))], (-1, t // r) + rest)
        return x[:, ::r]

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else -(-t // self.factor)) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config
