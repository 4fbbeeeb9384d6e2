"""The IMSE generator as a Keras functional model.

Internal layout is channels-last ``[B, T, F, C]`` (T = frames, F = bins). The
model's own inputs and outputs keep the official ``[B, F, T]`` convention so
that a PyTorch user's arrays go in unchanged.
"""

from __future__ import annotations

import keras

from imse_keras.config import IMSEConfig, get_config
from imse_keras.layers import (
    SKFF,
    Atan2,
    DenseBlock,
    IDConv,
    InstanceNorm,
    LearnableSigmoid,
    PixelShuffle,
    PixelUnshuffle,
    PolarToCartesian,
    TimeDecimate,
    TransformerBlock,
)

__all__ = ["build_model", "STAGES", "INTERMEDIATE_OUTPUTS", "check_frames"]

#: U-Net stages in forward order: (our name, width multiplier of C).
STAGES = (
    ("enc1", 1),
    ("enc2", 2),
    ("latent", 3),
    ("dec2", 2),
    ("dec1", 1),
    ("mag_head", 1),
    ("pha_head", 1),
)

#: Named intermediate tensors (layer names) and their layouts, for parity checks.
INTERMEDIATE_OUTPUTS = {
    "dense_encoder_out": "[B, T, F/2, C]",
    "mag_feat": "[B, T, F/2, C]",
    "pha_feat": "[B, T, F/2, C]",
    "mask": "[B, T, F, 1]",
    "phase": "[B, T, F, 1]",
}


def _prelu(name: str, channels_shared: bool = False) -> keras.layers.PReLU:
    """PReLU with PyTorch's 0.25 init; one slope per channel or one in total."""
    return keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(0.25),
        shared_axes=[1, 2, 3] if channels_shared else [1, 2],
        name=name,
    )


def _stage(x, name: str, dim: int, cfg: IMSEConfig):
    """IDConv embedding, ``num_blocks`` transformer blocks, SKFF, plus the input."""
    y = IDConv(dim, pointwise=cfg.idconv_pointwise, name=f"{name}_embed")(x)
    for i in range(cfg.num_blocks):
        y = TransformerBlock(dim, cfg.ffn_expansion, name=f"{name}_block{i}")(y)
    y = SKFF(dim, name=f"{name}_skff")(y)
    return keras.layers.Add(name=f"{name}_residual")([y, x])


def _decoder_trunk(x, prefix: str, cfg: IMSEConfig):
    """DenseBlock, 1x1 C -> 4C, PixelShuffle (2T, F), strided depthwise back to T."""
    c = cfg.dense_channel
    x = DenseBlock(c, cfg.dense_depth, name=f"{prefix}_dense")(x)
    x = keras.layers.Conv2D(4 * c, 1, use_bias=False, name=f"{prefix}_pw")(x)
    x = PixelShuffle(2, name=f"{prefix}_shuffle")(x)  # [B, 2T, F, C]
    # torch: depthwise kernel (1, 3), stride (2, 1), padding (0, 1). The kernel is
    # one frame tall, so decimating first and convolving with stride 1 is identical.
    x = TimeDecimate(2, name=f"{prefix}_decimate")(x)  # [B, T, F, C]
    return keras.layers.DepthwiseConv2D(
        (1, 3), padding="same", use_bias=False, name=f"{prefix}_dw"
    )(x)


def _ft_to_tf1(t, f: int, name: str):
    """``[B, F, T]`` -> ``[B, T, F, 1]``."""
    t = keras.layers.Permute((2, 1), name=f"{name}_permute")(t)
    return keras.layers.Reshape((-1, f, 1), name=name)(t)


def _tf1_to_ft(t, f: int, name: str):
    """``[B, T, F, 1]`` -> ``[B, F, T]``."""
    t = keras.layers.Reshape((-1, f), name=f"{name}_squeeze")(t)
    return keras.layers.Permute((2, 1), name=name)(t)


def check_frames(num_frames: int) -> None:
    """Raise ``ValueError`` unless T is a positive multiple of 4."""
    if num_frames is not None and (num_frames <= 0 or num_frames % 4):
        raise ValueError(
            "The number of STFT frames T must be a positive multiple of 4 (the U-Net "
            f"halves it twice). Received: T={num_frames}"
        )


def build_model(config: IMSEConfig | str = "imse", num_frames: int | None = None) -> keras.Model:
    """Build the IMSE generator.

    Args:
        config: an :class:`IMSEConfig` or a preset name (``"imse"``, ``"tiny"``, ...).
        num_frames: fix T in the input signature (``None``: any T, the default).

    Returns:
        A functional ``keras.Model`` named ``imse``, called as
        ``mag_c_out, pha_out, com_out = model([mag_c, pha])``, with

        * inputs ``mag_c`` ``[B, F, T]`` (compressed magnitude ``|X|**0.3``) and
          ``pha`` ``[B, F, T]`` (phase in radians), F = ``n_fft // 2 + 1`` = 256;
        * outputs ``mag_c_out`` ``[B, F, T]``, ``pha_out`` ``[B, F, T]`` and
          ``com_out`` ``[B, F, T, 2]`` (compressed real/imaginary parts).

        T must be a multiple of 4; it may change from call to call.
    """
    cfg = get_config(config)
    check_frames(num_frames)
    c, f = cfg.dense_channel, cfg.num_freqs

    # === Inputs: [B, F, T] -> [B, T, F, 2] ===
    mag_in = keras.Input((f, num_frames), name="mag_c")
    pha_in = keras.Input((f, num_frames), name="pha")
    x = keras.layers.Concatenate(name="stack_inputs")(
        [_ft_to_tf1(mag_in, f, "mag_tf"), _ft_to_tf1(pha_in, f, "pha_tf")]
    )

    # === Dense encoder: [B, T, F, 2] -> [B, T, F/2, C] ===
    x = keras.layers.Conv2D(c, 1, name="enc_conv1")(x)
    x = InstanceNorm(name="enc_conv1_norm")(x)
    x = _prelu("enc_conv1_prelu")(x)
    x = DenseBlock(c, cfg.dense_depth, name="enc_dense")(x)
    # torch: kernel (1, 3), stride (1, 2), padding (0, 1) -> F 256 -> 128.
    x = keras.layers.ZeroPadding2D(((0, 0), (1, 1)), name="enc_conv2_pad")(x)
    x = keras.layers.Conv2D(c, (1, 3), strides=(1, 2), padding="valid", name="enc_conv2")(x)
    x = InstanceNorm(name="enc_conv2_norm")(x)
    x = _prelu("enc_conv2_prelu")(x)
    encoded = keras.layers.Identity(name="dense_encoder_out")(x)

    # === U-Net body over [B, T, F/2, C] ===
    e1 = _stage(encoded, "enc1", c, cfg)
    d = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="down1_dw")(e1)
    d = keras.layers.Conv2D(2 * c // 4, 1, use_bias=False, name="down1_pw")(d)
    d1 = PixelUnshuffle(2, name="down1_unshuffle")(d)  # [B, T/2, F/4, 2C]
    e2 = _stage(d1, "enc2", 2 * c, cfg)
    d = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="down2_dw")(e2)
    d = keras.layers.Conv2D(3 * c // 4, 1, use_bias=False, name="down2_pw")(d)
    d2 = PixelUnshuffle(2, name="down2_unshuffle")(d)  # [B, T/4, F/8, 3C]
    latent = _stage(d2, "latent", 3 * c, cfg)

    u = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="up2_dw")(latent)
    u = keras.layers.Conv2D(2 * c * 4, 1, use_bias=False, name="up2_pw")(u)
    u = PixelShuffle(2, name="up2_shuffle")(u)  # [B, T/2, F/4, 2C]
    u = keras.layers.Concatenate(name="up2_concat")([u, e2])
    u2 = keras.layers.Conv2D(2 * c, 1, use_bias=False, name="up2_reduce")(u)
    dec2 = _stage(u2, "dec2", 2 * c, cfg)

    u = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="up1_dw")(dec2)
    u = keras.layers.Conv2D(c * 4, 1, use_bias=False, name="up1_pw")(u)
    u = PixelShuffle(2, name="up1_shuffle")(u)  # [B, T, F/2, C]
    u = keras.layers.Concatenate(name="up1_concat")([u, e1])
    u1 = keras.layers.Conv2D(c, 1, use_bias=False, name="up1_reduce")(u)
    dec1 = _stage(u1, "dec1", c, cfg)

    heads = {}
    for head in ("mag", "pha"):
        h = _stage(dec1, f"{head}_head", c, cfg)
        h = keras.layers.Conv2D(c, 3, padding="same", use_bias=False, name=f"{head}_out_conv")(h)
        heads[head] = keras.layers.Add(name=f"{head}_feat")([h, encoded])

    # === Mask decoder: [B, T, F/2, C] -> mask [B, T, F, 1] in (0, beta) ===
    m = _decoder_trunk(heads["mag"], "maskdec", cfg)
    m = keras.layers.Conv2D(1, 1, name="maskdec_conv")(m)
    m = InstanceNorm(name="maskdec_norm")(m)
    m = _prelu("maskdec_prelu", channels_shared=True)(m)
    m = keras.layers.Conv2D(1, 1, name="maskdec_conv2")(m)
    mask = LearnableSigmoid(f, cfg.beta, name="mask")(m)

    # === Phase decoder: [B, T, F/2, C] -> phase [B, T, F, 1] ===
    p = _decoder_trunk(heads["pha"], "phadec", cfg)
    p = InstanceNorm(name="phadec_norm")(p)
    p = _prelu("phadec_prelu")(p)
    real = keras.layers.Conv2D(1, 1, name="phadec_conv_r")(p)
    imag = keras.layers.Conv2D(1, 1, name="phadec_conv_i")(p)
    phase = Atan2(name="phase")([real, imag])

    # === Outputs back to [B, F, T] ===
    mag_out = keras.layers.Multiply(name="mag_c_out")([mag_in, _tf1_to_ft(mask, f, "mask_ft")])
    pha_out = keras.layers.Identity(name="pha_out")(_tf1_to_ft(phase, f, "phase_ft"))
    com_out = PolarToCartesian(name="com_out")([mag_out, pha_out])
    return keras.Model(inputs=[mag_in, pha_in], outputs=[mag_out, pha_out, com_out], name="imse")
