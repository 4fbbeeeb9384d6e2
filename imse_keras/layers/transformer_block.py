"""IMSE transformer block: bias-free LayerNorm, MALA and the gated-dconv FFN."""

from __future__ import annotations

import keras

from imse_keras.layers.bias_free_layer_norm import BiasFreeLayerNorm
from imse_keras.layers.gated_dconv_ffn import GatedDConvFFN
from imse_keras.layers.mala import MagnitudeAwareLinearAttention

__all__ = ["TransformerBlock"]


@keras.saving.register_keras_serializable(package="imse_keras")
class TransformerBlock(keras.layers.Layer):
    """``x += MALA(LN1(x)); x += FFN(LN2(x))``.

    Args:
        dim: channels C (multiple of 8).
        ffn_expansion: hidden width factor of the FFN.

    Shape:
        ``[B, T, F, C]`` -> ``[B, T, F, C]``.
    """

    def __init__(self, dim: int, ffn_expansion: float = 2.66, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.ffn_expansion = float(ffn_expansion)
        self.norm1 = BiasFreeLayerNorm(name="norm1")
        self.mala = MagnitudeAwareLinearAttention(self.dim, name="mala")
        self.norm2 = BiasFreeLayerNorm(name="norm2")
        self.ffn = GatedDConvFFN(self.dim, self.ffn_expansion, name="ffn")

    def build(self, input_shape):
        for layer in (self.norm1, self.mala, self.norm2, self.ffn):
            layer.build(input_shape)

    def call(self, x):
        # Each norm's weight scales the input rows of the 1x1 conv right after
        # it (MALA's qkvo, the FFN's project_in): the same math without a
        # per-token multiply.
        x = x + self.mala(self.norm1.normalize(x), input_scale=self.norm1.weight)
        return x + self.ffn(self.norm2.normalize(x), input_scale=self.norm2.weight)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"dim": self.dim, "ffn_expansion": self.ffn_expansion})
        return config
