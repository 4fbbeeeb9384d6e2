"""PyTorch-ordered ``PixelUnshuffle`` for channels-last tensors."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["PixelUnshuffle"]


@keras.saving.register_keras_serializable(package="imse_keras")
class PixelUnshuffle(keras.layers.Layer):
    """Fold ``r x r`` pixel blocks into channels, in ``torch.nn.PixelUnshuffle`` order.

    Input pixel ``(h*r + i, w*r + j)``, channel ``c`` goes to output pixel
    ``(h, w)``, channel ``c*r*r + i*r + j``: the exact inverse of
    :class:`PixelShuffle`.

    Args:
        factor: the down-scaling factor r.

    Shape:
        ``[B, H*r, W*r, C]`` -> ``[B, H, W, C*r*r]``. C must be static; H must
        be a multiple of r.
    """

    def __init__(self, factor: int = 2, **kwargs):
        if int(factor) != factor or factor < 1:
            raise ValueError(f"factor must be a positive integer. Received: factor={factor}")
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        r = self.factor
        shape = ops.shape(x)
        b, hr = shape[0], shape[1]
        wr = x.shape[2] if x.shape[2] is not None else shape[2]
        c = x.shape[3]
        if isinstance(wr, int) and wr % r:
            raise ValueError(f"Width ({wr}) must be divisible by factor ({r}).")
        h, w = hr // r, wr // r
        # Step 1, along H: pixel h*r + i -> channel c*r + i.
        y = ops.reshape(x, (b, h, r, wr, c))
        y = ops.transpose(y, (0, 1, 3, 4, 2))
        y = ops.reshape(y, (b * h, w, r, c * r))
        # Step 2, along W: pixel w*r + j -> channel (c*r + i)*r + j.
        y = ops.transpose(y, (0, 1, 3, 2))
        return ops.reshape(y, (b, h, w, c * r * r))

    def compute_output_shape(self, input_shape):
        r = self.factor
        b, h, w, c = input_shape
        return (b, None if h is None else h // r, None if w is None else w // r, c * r * r)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config
