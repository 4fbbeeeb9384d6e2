"""Gated depthwise-conv feed-forward network (Restormer's GDFN)."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["GatedDConvFFN"]


@keras.saving.register_keras_serializable(package="imse_keras")
class GatedDConvFFN(keras.layers.Layer):
    """``project_out(gelu(a) * b)`` with ``a | b = dwconv3x3(project_in(x))``.

    Hidden width ``h = int(dim * expansion)`` (42 / 85 / 127 for C = 16 / 32 / 48
    at 2.66). No biases anywhere; GELU is the exact (erf) form.

    Args:
        dim: channels C.
        expansion: hidden width factor.

    Call arguments:
        x: ``[B, T, F, C]``.
        input_scale: optional ``[C]``; the layer then computes on
            ``x * input_scale``, folded into project_in's kernel rows.

    Shape:
        ``[B, T, F, C]`` -> ``[B, T, F, C]``.
    """

    def __init__(self, dim: int, expansion: float = 2.66, **kwargs):
        if dim <= 0 or expansion <= 0:
            raise ValueError(
                f"dim and expansion must be > 0. Received: dim={dim}, expansion={expansion}"
            )
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.expansion = float(expansion)
        self._hidden = int(self.dim * self.expansion)
        self.project_in = keras.layers.Conv2D(2 * self._hidden, 1, use_bias=False, name="project_in")
        self.dwconv = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="dwconv")
        self.project_out = keras.layers.Conv2D(self.dim, 1, use_bias=False, name="project_out")

    def build(self, input_shape):
        self.project_in.build(input_shape)
        hidden_shape = tuple(input_shape[:-1]) + (2 * self._hidden,)
        self.dwconv.build(hidden_shape)
        self.project_out.build(tuple(input_shape[:-1]) + (self._hidden,))

    def call(self, x, input_scale=None):
        # Each half (gate a, value b) by its own slice of the project_in and
        # dwconv kernels: the same per-channel math as convolving all 2h
        # channels and splitting, without a SPLIT copy in the TFLite graph.
        # input_scale ([C], optional) multiplies x, folded into project_in's rows.
        h = self._hidden
        k_in, k_dw = self.project_in.kernel, self.dwconv.kernel  # [1,1,C,2h], [3,3,2h,1]
        if input_scale is not None:
            k_in = k_in * ops.reshape(input_scale, (1, 1, -1, 1))

        def half(lo, hi):
            y = ops.conv(x, k_in[..., lo:hi], padding="valid")
            return ops.depthwise_conv(y, k_dw[:, :, lo:hi, :], padding="same")

        a, b = half(0, h), half(h, 2 * h)
        return self.project_out(ops.gelu(a, approximate=False) * b)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.dim,)

    def get_config(self):
        config = super().get_config()
        config.update({"dim": self.dim, "expansion": self.expansion})
        return config
