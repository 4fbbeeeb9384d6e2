"""The metric discriminator of MP-SENet/IMSE (SPEC section 3).

``D(clean_mag_c, est_mag_c)`` predicts the normalised PESQ-WB of ``est``
against ``clean``, ``(PESQ - 1) / 3.5`` in (0, 1).
"""

from __future__ import annotations

import keras
from keras import ops

from imse_keras.layers.instance_norm import InstanceNorm

__all__ = ["ScalarLearnableSigmoid", "build_discriminator"]


@keras.saving.register_keras_serializable(package="imse_keras")
class ScalarLearnableSigmoid(keras.layers.Layer):
    """``beta * sigmoid(slope * x)`` with one trainable slope per feature (init 1).

    Shape:
        ``[B, N]`` -> ``[B, N]``.
    """

    def __init__(self, beta: float = 1.0, **kwargs):
        if beta <= 0:
            raise ValueError(f"beta must be > 0. Received: beta={beta}")
        super().__init__(**kwargs)
        self.beta = float(beta)

    def build(self, input_shape):
        self.slope = self.add_weight(name="slope", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return self.beta * ops.sigmoid(x * self.slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta})
        return config


def build_discriminator(num_freqs: int = 256, channels: int = 16, name: str = "metric_d") -> keras.Model:
    """Build the metric discriminator.

    Four blocks of spectral-norm conv 4x4 stride 2 pad 1 (no bias),
    InstanceNorm(affine), PReLU with ``channels * (1, 2, 4, 8)`` channels;
    global max-pool; SN-dense ``8c -> 4c``, dropout 0.3, PReLU, SN-dense
    ``4c -> 1``, learnable sigmoid (beta 1).

    Args:
        num_freqs: F of the inputs.
        channels: width of the first block (16 in the official model).

    Returns:
        ``keras.Model`` with inputs ``[clean_mag_c, est_mag_c]``, each
        ``[B, T, F]`` (any T >= 16), and output ``[B, 1]``.
    """
    if channels < 1 or num_freqs < 16:
        raise ValueError(
            f"channels must be >= 1 and num_freqs >= 16. Received: channels={channels}, "
            f"num_freqs={num_freqs}"
        )
    sn = keras.layers.SpectralNormalization
    clean = keras.Input((None, num_freqs), name="clean_mag_c")
    est = keras.Input((None, num_freqs), name="est_mag_c")
    # [B, T, F] x 2 -> [B, T, F, 2] (channels last; torch stacks [B, F, T] on
    # dim 1, so its 4x4 kernels are these transposed).
    x = ops.stack([clean, est], axis=-1)
    for i, mult in enumerate((1, 2, 4, 8)):
        x = keras.layers.ZeroPadding2D(1, name=f"pad{i}")(x)
        x = sn(keras.layers.Conv2D(channels * mult, 4, strides=2, use_bias=False), name=f"conv{i}")(x)
        x = InstanceNorm(name=f"norm{i}")(x)
        x = keras.layers.PReLU(shared_axes=[1, 2], name=f"prelu{i}")(x)
    x = keras.layers.GlobalMaxPooling2D(name="pool")(x)
    x = sn(keras.layers.Dense(channels * 4), name="fc0")(x)
    x = keras.layers.Dropout(0.3, name="dropout")(x)
    x = keras.layers.PReLU(name="prelu_fc")(x)
    x = sn(keras.layers.Dense(1), name="fc1")(x)
    out = ScalarLearnableSigmoid(1.0, name="sigmoid")(x)
    return keras.Model([clean, est], out, name=name)
