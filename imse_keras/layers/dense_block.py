"""Dilated dense block of the MP-SENet / MUSE / IMSE encoder and decoders."""

from __future__ import annotations

import keras
from keras import ops

from imse_keras.layers.instance_norm import InstanceNorm

__all__ = ["DenseBlock"]


@keras.saving.register_keras_serializable(package="imse_keras")
class DenseBlock(keras.layers.Layer):
    """``depth`` layers of 3x3 conv (dilation ``2**i`` in time) + InstanceNorm + PReLU.

    Layer i reads the concatenation of every earlier output and the block input,
    **newest first** (``[x_{i-1}, ..., x_0, input]``, as ``torch.cat([x, skip])``),
    so it sees ``channels * (i + 1)`` channels. The block returns only the last
    layer's output.

    Args:
        channels: width of the input and of every layer's output.
        depth: number of layers.

    Shape:
        ``[B, T, F, channels]`` -> ``[B, T, F, channels]``.
    """

    def __init__(self, channels: int, depth: int = 4, **kwargs):
        if channels <= 0 or depth <= 0:
            raise ValueError(
                f"channels and depth must be > 0. Received: channels={channels}, depth={depth}"
            )
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.depth = int(depth)
        self.pads, self.convs, self.norms, self.prelus = [], [], [], []
        for i in range(self.depth):
            # Explicit symmetric padding + "valid": TF's implicit "same" padding
            # for dilated convs breaks on inputs whose time length is unknown
            # when traced (SpaceToBatchND divisibility error).
            self.pads.append(
                keras.layers.ZeroPadding2D(((2**i, 2**i), (1, 1)), name=f"pad{i}")
            )
            self.convs.append(
                keras.layers.Conv2D(
                    self.channels, 3, padding="valid", dilation_rate=(2**i, 1), name=f"conv{i}"
                )
            )
            self.norms.append(InstanceNorm(name=f"norm{i}"))
            self.prelus.append(
                keras.layers.PReLU(
                    alpha_initializer=keras.initializers.Constant(0.25),
                    shared_axes=[1, 2],
                    name=f"prelu{i}",
                )
            )

    def build(self, input_shape):
        if input_shape[-1] != self.channels:
            raise ValueError(
                f"Expected {self.channels} input channels. Received: input_shape={input_shape}"
            )
        base = tuple(input_shape[:-1])
        for i in range(self.depth):
            t = None if base[1] is None else base[1] + 2 ** (i + 1)
            f = None if base[2] is None else base[2] + 2
            self.convs[i].build((base[0], t, f, self.channels * (i + 1)))
            self.norms[i].build(base + (self.channels,))
            self.prelus[i].build(base + (self.channels,))

    def call(self, x):
        f = x.shape[2]
        skip = x
        for i in range(self.depth):
            y = self.convs[i](self.pads[i](skip))
            if f is not None:
                # TF's dilated conv drops the static F when T is unknown at trace
                # time; restoring it keeps every later shape static (TFLite).
                s = ops.shape(y)
                y = ops.reshape(y, (s[0], s[1], f, self.channels))
            x = self.prelus[i](self.norms[i](y))
            skip = ops.concatenate([x, skip], axis=-1)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"channels": self.channels, "depth": self.depth})
        return config
