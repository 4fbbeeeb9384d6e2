"""Map an official PyTorch IMSE ``state_dict`` onto the Keras model.

The mapping is generated from the config, so it covers every preset. It is
strict both ways: every torch tensor must land on exactly one Keras variable
with a matching shape, and every Keras variable must be assigned. The 28
``rope.angle`` buffers are not weights; they are checked against the constant
angles the Keras layer uses.

Layout conversions (torch -> Keras):

* Conv2d weight ``[O, I, kh, kw]`` -> ``[kh, kw, I, O]``
* depthwise Conv2d weight ``[C, 1, kh, kw]`` -> ``[kh, kw, C, 1]``
* PReLU weight ``[C]`` -> ``[1, 1, C]`` (or ``[1, 1, 1]``)
* learnable-sigmoid slope ``[F, 1]`` -> ``[F]``
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import keras

from imse_keras.config import IMSEConfig
from imse_keras.layers.mala import HEAD_DIM, rope_angles
from imse_keras.model import STAGES

__all__ = ["WeightMappingError", "torch_to_keras_mapping", "load_torch_weights"]

# Our stage name -> (torch stage module, torch embedding module), under TCFTransformer.
_TORCH_STAGES = {
    "enc1": ("encoder_level1", "patch_embed_encoder_level1"),
    "enc2": ("encoder_level2", "patch_embed_encoder_level2"),
    "latent": ("latent", "patch_embed_latent"),
    "dec2": ("decoder_level2", "patch_embed_decoder_level2"),
    "dec1": ("decoder_level1", "patch_embed_decoder_level1"),
    "mag_head": ("mag_refinement", "mag_patch_embed_refinement"),
    "pha_head": ("pha_refinement", "pha_patch_embed_refinement"),
}


class WeightMappingError(ValueError):
    """The checkpoint does not fit the model (missing, extra or mis-shaped tensors)."""


def _conv(w):
    return np.transpose(w, (2, 3, 1, 0))


def _dwconv(w):
    return np.transpose(w, (2, 3, 0, 1))


def _same(w):
    return w


def torch_to_keras_mapping(model: keras.Model, config: IMSEConfig) -> list[tuple[str, object, callable]]:
    """List ``(torch_key, keras_variable, transform)`` for every parameter.

    Args:
        model: a model from :func:`imse_keras.model.build_model` with ``config``.
        config: the model's config (sets block and layer counts).
    """
    entries: list[tuple[str, object, callable]] = []
    layer = model.get_layer

    def conv(prefix, lyr, bias=True):
        entries.append((f"{prefix}.weight", lyr.kernel, _conv))
        if bias:
            entries.append((f"{prefix}.bias", lyr.bias, _same))

    def dwconv(prefix, lyr, bias=False):
        entries.append((f"{prefix}.weight", lyr.kernel, _dwconv))
        if bias:
            entries.append((f"{prefix}.bias", lyr.bias, _same))

    def norm(prefix, lyr):
        entries.append((f"{prefix}.weight", lyr.gamma, _same))
        entries.append((f"{prefix}.bias", lyr.beta, _same))

    def prelu(prefix, lyr):
        entries.append((f"{prefix}.weight", lyr.alpha, _same))

    def dense_block(prefix, block):
        for i in range(config.dense_depth):
            p = f"{prefix}.dense_block.{i}"
            conv(f"{p}.0", block.convs[i])
            norm(f"{p}.1", block.norms[i])
            prelu(f"{p}.2", block.prelus[i])

    # Dense encoder.
    conv("dense_encoder.dense_conv_1.0", layer("enc_conv1"))
    norm("dense_encoder.dense_conv_1.1", layer("enc_conv1_norm"))
    prelu("dense_encoder.dense_conv_1.2", layer("enc_conv1_prelu"))
    dense_block("dense_encoder.dense_block", layer("enc_dense"))
    conv("dense_encoder.dense_conv_2.0", layer("enc_conv2"))
    norm("dense_encoder.dense_conv_2.1", layer("enc_conv2_norm"))
    prelu("dense_encoder.dense_conv_2.2", layer("enc_conv2_prelu"))

    # U-Net stages.
    t = "TCFTransformer"
    for name, _ in STAGES:
        stage_mod, embed_mod = _TORCH_STAGES[name]
        emb = layer(f"{name}_embed")
        p = f"{t}.{embed_mod}.patch_embeds.0.patch_conv"
        for branch in ("dwconv_hw", "dwconv_w", "dwconv_h"):
            dwconv(f"{p}.{branch}", getattr(emb, branch), bias=True)
        if emb.pwconv is not None:
            conv(f"{p}.pwconv", emb.pwconv, bias=False)
        for i in range(config.num_blocks):
            blk = layer(f"{name}_block{i}")
            p = f"{t}.{stage_mod}.mhca_blks.0.transformer_layers.{i}"
            entries.append((f"{p}.norm1.body.weight", blk.norm1.weight, _same))
            entries.append((f"{p}.norm2.body.weight", blk.norm2.weight, _same))
            conv(f"{p}.mala.qkvo", blk.mala.qkvo)
            dwconv(f"{p}.mala.lepe", blk.mala.lepe, bias=True)
            conv(f"{p}.mala.proj", blk.mala.proj)
            conv(f"{p}.ffn.project_in", blk.ffn.project_in, bias=False)
            dwconv(f"{p}.ffn.dwconv", blk.ffn.dwconv)
            conv(f"{p}.ffn.project_out", blk.ffn.project_out, bias=False)
        skff = layer(f"{name}_skff")
        p = f"{t}.{stage_mod}.aggregate"
        conv(f"{p}.conv_du.0", skff.conv_du, bias=False)
        prelu(f"{p}.conv_du.1", skff.prelu)
        conv(f"{p}.fcs.0", skff.fc, bias=False)

    # Resampling between U-Net levels.
    for ours, theirs in (("down1", "down1_2"), ("down2", "down2_3"), ("up2", "up3_2"), ("up1", "up2_1")):
        dwconv(f"{t}.{theirs}.body.0", layer(f"{ours}_dw"))
        conv(f"{t}.{theirs}.body.1", layer(f"{ours}_pw"), bias=False)
    conv(f"{t}.reduce_chan_level2.0", layer("up2_reduce"), bias=False)
    conv(f"{t}.reduce_chan_level1.0", layer("up1_reduce"), bias=False)
    conv(f"{t}.mag_output.0", layer("mag_out_conv"), bias=False)
    conv(f"{t}.pha_output.0", layer("pha_out_conv"), bias=False)

    # Mask decoder.
    dense_block("mask_decoder.dense_block", layer("maskdec_dense"))
    conv("mask_decoder.mask_conv.0", layer("maskdec_pw"), bias=False)
    dwconv("mask_decoder.mask_conv.2", layer("maskdec_dw"))
    conv("mask_decoder.mask_conv.3", layer("maskdec_conv"))
    norm("mask_decoder.mask_conv.4", layer("maskdec_norm"))
    prelu("mask_decoder.mask_conv.5", layer("maskdec_prelu"))
    conv("mask_decoder.mask_conv.6", layer("maskdec_conv2"))
    entries.append(("mask_decoder.lsigmoid.slope", layer("mask").slope, _same))

    # Phase decoder.
    dense_block("phase_decoder.dense_block", layer("phadec_dense"))
    conv("phase_decoder.phase_conv.0", layer("phadec_pw"), bias=False)
    dwconv("phase_decoder.phase_conv.2", layer("phadec_dw"))
    norm("phase_decoder.phase_conv.3", layer("phadec_norm"))
    prelu("phase_decoder.phase_conv.4", layer("phadec_prelu"))
    conv("phase_decoder.phase_conv_r", layer("phadec_conv_r"))
    conv("phase_decoder.phase_conv_i", layer("phadec_conv_i"))
    return entries


def _fit(array: np.ndarray, variable, transform, key: str) -> np.ndarray:
    value = transform(np.asarray(array, dtype=np.float32))
    target = tuple(variable.shape)
    if value.shape != target:
        # PReLU slopes and the sigmoid slope differ only by unit axes.
        if value.size == int(np.prod(target)) and (
            key.endswith("lsigmoid.slope") or value.ndim == 1
        ):
            return value.reshape(target)
        raise WeightMappingError(
            f"Shape mismatch for {key}: checkpoint {tuple(array.shape)} -> {value.shape}, "
            f"model variable {variable.path} expects {target}"
        )
    return value


def load_torch_weights(
    model: keras.Model, state_dict: Mapping[str, np.ndarray], config: IMSEConfig
) -> int:
    """Assign an official IMSE ``state_dict`` to ``model``; strict.

    Args:
        model: a freshly built model for ``config``.
        state_dict: torch parameter name -> array (e.g. from
            :func:`imse_keras.weights.torch_checkpoint.load_torch_state_dict`).
        config: the model's config.

    Returns:
        The number of parameter values assigned.

    Raises:
        WeightMappingError: keys missing from or unexpected in the checkpoint,
            shape mismatches, or ``rope.angle`` buffers that are not the
            standard angles. Nothing is assigned unless everything fits.
    """
    entries = torch_to_keras_mapping(model, config)
    expected_keys = {key for key, _, _ in entries}
    rope_keys = {k for k in state_dict if k.endswith(".rope.angle")}
    missing = sorted(expected_keys - set(state_dict))
    unexpected = sorted(set(state_dict) - expected_keys - rope_keys)
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
    if problems:
        raise WeightMappingError(
            "Checkpoint does not match the IMSE model "
            f"(dense_channel={config.dense_channel}, num_blocks={config.num_blocks}, "
            f"idconv_pointwise={config.idconv_pointwise}): " + "; ".join(problems)
        )
    angles = rope_angles(HEAD_DIM)
    for key in sorted(rope_keys):
        buf = np.asarray(state_dict[key], dtype=np.float32).reshape(-1)
        if buf.shape != angles.shape or not np.allclose(buf, angles, rtol=1e-6, atol=0):
            raise WeightMappingError(f"{key} = {buf} differs from the standard RoPE angles {angles}")

    values = [(var, _fit(state_dict[key], var, tr, key)) for key, var, tr in entries]
    assigned_vars = {id(var) for var, _ in values}
    unassigned = [v.path for v in model.weights if id(v) not in assigned_vars]
    if unassigned:
        raise WeightMappingError(
            f"{len(unassigned)} model variables have no checkpoint tensor (e.g. {unassigned[:3]})"
        )
    if len(assigned_vars) != len(values):
        raise WeightMappingError("Two checkpoint tensors map to the same model variable")
    for var, value in values:
        var.assign(value)
    return int(sum(v.size for _, v in values))
