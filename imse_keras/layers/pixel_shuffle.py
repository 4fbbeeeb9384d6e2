"""PyTorch-ordered ``PixelShuffle`` for channels-last tensors."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["PixelShuffle"]


@keras.saving.register_keras_serializable(package="imse_keras")
class PixelShuffle(keras.layers.Layer):
    """Move ``r*r`` channel groups into space, in ``torch.nn.PixelShuffle`` order.

    Input channel ``c*r*r + i*r + j`` goes to output pixel ``(h*r + i, w*r + j)``,
    channel ``c``. ``tf.nn.depth_to_space`` uses ``(i*r + j)*C + c`` instead, which
    would scramble the official weights.

    Done as two steps of at most 5-D reshapes/transposes (W first, then H) so the
    graph stays within what TFLite's TRANSPOSE supports.

    Args:
        factor: the up-scaling factor r.

    Shape:
        ``[B, H, W, C*r*r]`` -> ``[B, H*r, W*r, C]``. C must be static;
        B and H may be dynamic.
    """

    def __init__(self, factor: int = 2, **kwargs):
        if int(factor) != factor or factor < 1:
            raise ValueError(f"factor must be a positive integer. Received: factor={factor}")
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        r = self.factor
        shape = ops.shape(x)
        b, h = shape[0], shape[1]
        w = x.shape[2] if x.shape[2] is not None else shape[2]
        crr = x.shape[3]
        if crr % (r * r):
            raise ValueError(f"Channels ({crr}) must be divisible by factor**2 ({r * r}).")
        c = crr // (r * r)
        # Step 1, along W: channel (c*r + i)*r + j -> pixel w*r + j, channel c*r + i.
        y = ops.reshape(x, (b * h, w, c * r, r))
        y = ops.transpose(y, (0, 1, 3, 2))
        y = ops.reshape(y, (b, h, w * r, c * r))
        # Step 2, along H: channel c*r + i -> pixel h*r + i, channel c.
        y = ops.reshape(y, (b, h, w * r, c, r))
        y = ops.transpose(y, (0, 1, 4, 2, 3))
        return ops.reshape(y, (b, h * r, w * r, c))

    def compute_output_shape(self, input_shape):
        r = self.factor
        b, h, w, c = input_shape
        return (b, None if h is None else h * r, None if w is None else w * r, c // (r * r))

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config
