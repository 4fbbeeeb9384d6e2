"""Selective kernel feature fusion (SKFF) with one path."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["SKFF"]


@keras.saving.register_keras_serializable(package="imse_keras")
class SKFF(keras.layers.Layer):
    """SKFF over a single path: an identity that still carries weights.

    Global average pool -> 1x1 C -> ``max(C // reduction, 4)`` (no bias) ->
    PReLU (one slope) -> 1x1 back to C (no bias) -> softmax over the path axis.
    With one path the softmax is exactly 1 everywhere (``exp(l - l) / exp(l - l)``,
    and its gradient is 0), so the output is the input: :meth:`call` returns it
    unchanged, in Keras and in an export alike, and the squeeze-excite weights
    are frozen (``trainable=False``: they never receive a gradient). The official
    model has this structure (129 / 257 / 577 parameters); keeping the weights
    lets the checkpoints load and the parameter count match.

    Args:
        dim: channels C.
        reduction: squeeze ratio.

    Shape:
        ``[B, T, F, C]`` -> ``[B, T, F, C]``.
    """

    def __init__(self, dim: int, reduction: int = 8, **kwargs):
        if dim <= 0 or reduction <= 0:
            raise ValueError(
                f"dim and reduction must be > 0. Received: dim={dim}, reduction={reduction}"
            )
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.reduction = int(reduction)
        self._squeezed = max(int(self.dim / self.reduction), 4)
        self.conv_du = keras.layers.Conv2D(self._squeezed, 1, use_bias=False, name="conv_du")
        self.prelu = keras.layers.PReLU(
            alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1, 2, 3], name="prelu"
        )
        self.fc = keras.layers.Conv2D(self.dim, 1, use_bias=False, name="fc")
        for layer in (self.conv_du, self.prelu, self.fc):
            layer.trainable = False  # no gradient reaches them (see the class docstring)

    def build(self, input_shape):
        pooled = (input_shape[0], 1, 1, self.dim)
        self.conv_du.build(pooled)
        self.prelu.build((input_shape[0], 1, 1, self._squeezed))
        self.fc.build((input_shape[0], 1, 1, self._squeezed))

    def call(self, x):
        # softmax over one path = 1: x * 1 is x, forward and backward.
        return x

    def path_weights(self, x):
        """The softmax weights the official module multiplies by: ones ``[B, 1, 1, C]``.

        Computed from the weights as the official module does (for tests);
        :meth:`call` does not need them.
        """
        pooled = ops.mean(x, axis=(1, 2), keepdims=True)  # [B, 1, 1, C]
        logits = self.fc(self.prelu(self.conv_du(pooled)))
        # Softmax over the single path, written out: keras.ops.softmax warns on a size-1 axis.
        weights = ops.exp(logits - ops.stop_gradient(logits))
        return weights / weights

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"dim": self.dim, "reduction": self.reduction})
        return config
