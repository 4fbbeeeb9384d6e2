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
        y_w, y_h = self._band(self.dwconv_w, x_w, axis=2), self._band(self.dwconv_h, x_h, axis=1)
        return ops.concatenate([x_id, self.dwconv_hw(x_hw), y_w, y_h], axis=-1)

    def _band(self, conv, z, axis):
        """One band branch (taps along ``axis``, 1 = T or 2 = F) on wide lanes.

        A depthwise conv over g channels leaves most SIMD lanes idle (16 float
        lanes per XNNPACK tile; g = C/8 = 2 at C = 16). The same per-channel
        math runs on ``k * g`` lanes: k positions of the *other* axis move into
        the channel axis (``[.., n/k, k*g]``) and the taps repeat for each of
        them. ``k`` divides that axis' static length; when none gives at least
        8 lanes (or the length is unknown) the plain conv runs.

        Args:
            conv: the branch's ``DepthwiseConv2D`` (``kb x 1`` or ``1 x kb``).
            z: ``[B, T, F, g]``.
            axis: the axis the taps run along.

        Returns:
            ``[B, T, F, g]``.
        """
        g = self._g
        t, f = z.shape[1], z.shape[2]
        other = f if axis == 1 else t
        k = None if other is None else _lane_group(other, g)
        if k is None:
            return conv(z)
        b = ops.shape(z)[0]
        if t is None:  # taps along T need a static F only
            t = ops.shape(z)[1]
        kernel = ops.tile(conv.kernel, (1, 1, k, 1))  # [kh, kw, k*g, 1]; lane j*g + c
        bias = ops.tile(conv.bias, (k,))
        if axis == 1:  # taps along T: [B, T, F/k, k*g] (a free reshape)
            y = ops.depthwise_conv(ops.reshape(z, (b, t, f // k, k * g)), kernel, padding="same")
            return ops.reshape(y + bias, (b, t, f, g))
        # taps along F: [B, T/k, k, F, g] -> [B*T/k, 1, F, k*g]
        zw = ops.transpose(ops.reshape(z, (b, t // k, k, f, g)), (0, 1, 3, 2, 4))
        y = ops.depthwise_conv(ops.reshape(zw, (-1, 1, f, k * g)), kernel, padding="same") + bias
        y = ops.transpose(ops.reshape(y, (b, t // k, f, k, g)), (0, 1, 3, 2, 4))
        return ops.reshape(y, (b, t, f, g))

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


def _lane_group(length: int, channels: int, tile: int = 16, max_lanes: int = 64) -> int | None:
    """The k (a divisor of ``length``) whose ``k * channels`` lanes best fill
    ``tile``-wide SIMD tiles, at most ``max_lanes``; larger k on ties. None when
    no k reaches 8 lanes at half a tile's use or more."""
    best, best_use = None, 0.5
    for k in range(1, length + 1):
        lanes = k * channels
        if length % k or lanes > max_lanes:
            continue
        use = lanes / (-(-lanes // tile) * tile)
        if lanes >= 8 and use >= best_use:
            best, best_use = k, use
    return best
