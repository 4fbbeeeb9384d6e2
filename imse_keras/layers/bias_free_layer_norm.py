"""Bias-free LayerNorm over channels (Restormer's ``BiasFree_LayerNorm``)."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["BiasFreeLayerNorm"]


@keras.saving.register_keras_serializable(package="imse_keras")
class BiasFreeLayerNorm(keras.layers.Layer):
    """``x / sqrt(var_c(x) + eps) * w``: scales by the channel spread, keeps the mean.

    Unlike ``keras.layers.LayerNormalization`` the mean is *not* subtracted from
    ``x`` (it is only used inside the biased variance), and there is no bias.

    Args:
        epsilon: added to the variance.

    Shape:
        ``[..., C]`` -> ``[..., C]``; normalised over the last axis.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        if epsilon <= 0:
            raise ValueError(f"epsilon must be > 0. Received: epsilon={epsilon}")
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"The channel axis must be known. Received: input_shape={input_shape}")
        self.weight = self.add_weight(name="weight", shape=(channels,), initializer="ones")

    def call(self, x):
        return self.normalize(x) * self.weight

    def normalize(self, x):
        """``x / sqrt(var_c(x) + eps)``: the norm without its weight, for a
        consumer that folds ``self.weight`` into its own kernel (a 1x1 conv of
        the normalised ``x`` times ``w`` is one of ``x`` with ``w`` scaling the
        kernel's input rows; :class:`TransformerBlock` does this)."""
        var = ops.var(x, axis=-1, keepdims=True)
        return x * ops.rsqrt(var + self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
