"""The custom Keras layers of IMSE, one per module."""

from imse_keras.layers.atan2 import Atan2
from imse_keras.layers.bias_free_layer_norm import BiasFreeLayerNorm
from imse_keras.layers.dense_block import DenseBlock
from imse_keras.layers.gated_dconv_ffn import GatedDConvFFN
from imse_keras.layers.idconv import IDConv
from imse_keras.layers.instance_norm import InstanceNorm
from imse_keras.layers.learnable_sigmoid import LearnableSigmoid
from imse_keras.layers.mala import MagnitudeAwareLinearAttention
from imse_keras.layers.pixel_shuffle import PixelShuffle
from imse_keras.layers.pixel_unshuffle import PixelUnshuffle
from imse_keras.layers.polar_to_cartesian import PolarToCartesian
from imse_keras.layers.skff import SKFF
from imse_keras.layers.sub_pixel_upsample import SubPixelUpsample
from imse_keras.layers.transformer_block import TransformerBlock

__all__ = [
    "Atan2",
    "BiasFreeLayerNorm",
    "DenseBlock",
    "GatedDConvFFN",
    "IDConv",
    "InstanceNorm",
    "LearnableSigmoid",
    "MagnitudeAwareLinearAttention",
    "PixelShuffle",
    "PixelUnshuffle",
    "PolarToCartesian",
    "SKFF",
    "SubPixelUpsample",
    "TransformerBlock",
]
