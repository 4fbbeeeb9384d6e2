"""Instance normalisation over (T, F), as ``torch.nn.InstanceNorm2d(affine=True)``."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["InstanceNorm"]


@keras.saving.register_keras_serializable(package="imse_keras")
class InstanceNorm(keras.layers.Layer):
    """Normalise each sample and channel over the two spatial axes.

    ``y = (x - mean_tf) / sqrt(var_tf + eps) * gamma_c + beta_c`` with the biased
    variance, statistics always computed from the input (no running stats).

    Args:
        epsilon: added to the variance.

    Shape:
        ``[B, T, F, C]`` -> ``[B, T, F, C]``.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        if epsilon <= 0:
            raise ValueError(f"epsilon must be > 0. Received: epsilon={epsilon}")
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"InstanceNorm expects [B, T, F, C] with known C. Received: input_shape={input_shape}"
            )
        channels = input_shape[-1]
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, x):
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        var = ops.mean(ops.square(x - mean), axis=(1, 2), keepdims=True)
        return (x - mean) * ops.rsqrt(var + self.epsilon) * self.gamma + self.beta

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
