"""IDConv: Inception depthwise convolution embedding (InceptionNeXt + a 1x1 conv)."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["IDConv"]


@keras.saving.register_keras_serializable(package="imse_keras")
class IDConv(keras.layers.Layer):
    """Optional 1x1 conv, then four channel branches, concatenated in order.

    Channels are split ``[C - 3g, g, g, g]`` with ``g = int(C * branch_ratio)``:
    identity, depthwise ``k x k``, depthwise ``1 x band`` (along F), depthwise
    ``band x 1`` (along T). The depthwise convs have biases and "same" padding.
    No norm, no activation.

    Args:
        dim: channels C.
        pointwise: the leading bias-free 1x1 conv of the released IMSE weights.
            ``False`` gives the paper's parameter count.
        square_kernel: k of the square branch.
        band_kernel: length of the two band branches.
        branch_ratio: fraction of channels per conv branch.

    Shape:
        ``[B, T, F, C]`` -> ``[B, T, F, C]``.
    """

    def __init__(
        self,
        dim: int,
        pointwise: bool = True,
        square_kernel: int = 3,
        band_kernel: int = 11,
        branch_ratio: float = 0.125,
        **kwargs,
    ):
        g = int(dim * branch_ratio)
        if dim <= 0 or g < 1 or dim - 3 * g < 0:
            raise ValueError(
                "dim * branch_ratio must give at least one channel per branch. "
                f"Received: dim={dim}, branch_ratio={branch_ratio}"
            )
        if square_kernel % 2 == 0 or band_kernel % 2 == 0:
            raise ValueError(
                "Kernels must be odd for symmetric 'same' padding. Received: "
                f"square_kernel={square_kernel}, band_kernel={band_kernel}"
            )
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.pointwise = bool(pointwise)
        self.square_kernel = int(square_kernel)
        self.band_kernel = int(band_kernel)
        self.branch_ratio = float(branch_ratio)
        self._g = g
        self.pwconv = (
            keras.layers.Conv2D(self.dim, 1, use_bias=False, name="pwconv") if self.pointwise else None
        )
        self.dwconv_hw = keras.layers.DepthwiseConv2D(
            self.square_kernel, padding="same", name="dwconv_hw"
        )
        self.dwconv_w = keras.layers.DepthwiseConv2D(
            (1, self.band_kernel), padding="same", name="dwconv_w"
        )
        self.dwconv_h = keras.layers.DepthwiseConv2D(
            (self.band_kernel, 1), padding="same", name="dwconv_h"
        )

    def build(self, input_shape):
        if self.pwconv is not None:
            self.pwconv.build(input_shape)
        branch_shape = tuple(input_shape[:-1]) + (self._g,)
        for conv in (self.dwconv_hw, self.dwconv_w, self.dwconv_h):
            conv.build(branch_shape)

    def call(self, x):
        g, n_id = self._g, self.dim - 3 * self._g
        bounds = ((0, n_id), (n_id, n_id + g), (n_id + g, n_id + 2 * g), (n_id + 2 * g, self.dim))
        if self.pwconv is not None:
            # Each branch by its own slice of the 1x1 kernel: the same per-channel
            # math as convolving once and slicing, without four STRIDED_SLICE
            # copies (not delegated by LiteRT's XNNPACK) in the TFLite graph.
            kernel = self.pwconv.kernel
            x_id, x_hw, x_w, x_h = (ops.conv(x, kernel[..., lo:hi], padding="valid")
                                    for lo, hi in bounds)
        else:
            x_id, x_hw, x_w, x_h = (x[..., lo:hi] for lo, hi in bounds)
        return ops.concatenate(
            [x_id, self.dwconv_hw(x_hw), self.dwconv_w(x_w), self.dwconv_h(x_h)], axis=-1
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "dim": self.dim,
                "pointwise": self.pointwise,
                "square_kernel": self.square_kernel,
                "band_kernel": self.band_kernel,
                "branch_ratio": self.branch_ratio,
            }
        )
        return config
