"""The IMSE generator as a Keras functional model.

Layout: frames first everywhere. The model's inputs and outputs are
``[B, T, F]`` (T = frames, F = bins), the layout of
:class:`imse_keras.frontend.FrontEnd` features; internally channels-last
``[B, T, F, C]``. (The official PyTorch code uses ``[B, F, T]``: transpose a
PyTorch user's arrays with ``swapaxes(1, 2)``.)
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

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
    SubPixelUpsample,
    TransformerBlock,
)

__all__ = ["IMSE", "build_model", "STAGES", "INTERMEDIATE_OUTPUTS", "CORE_OUTPUTS", "check_frames"]

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
    "phase_r": "[B, T, F]",
    "phase_i": "[B, T, F]",
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
    """DenseBlock, F upsampling (1x1 C -> 4C, PixelShuffle, even frames), (1, 3) depthwise."""
    c = cfg.dense_channel
    x = DenseBlock(c, cfg.dense_depth, name=f"{prefix}_dense")(x)
    # torch: 1x1 C -> 4C, PixelShuffle(2) -> [B, 2T, F, C], then a depthwise conv
    # of kernel (1, 3), stride (2, 1), padding (0, 1). The kernel is one frame
    # tall, so only the even frames of the shuffle count: SubPixelUpsample
    # computes just those, and the depthwise conv runs with stride 1.
    x = SubPixelUpsample(c, name=f"{prefix}_pw")(x)  # [B, T, F, C]
    return keras.layers.DepthwiseConv2D(
        (1, 3), padding="same", use_bias=False, name=f"{prefix}_dw"
    )(x)


def _tf_to_tf1(t, f: int, name: str):
    """``[B, T, F]`` -> ``[B, T, F, 1]``."""
    return keras.layers.Reshape((-1, f, 1), name=name)(t)


def _tf1_to_tf(t, f: int, name: str):
    """``[B, T, F, 1]`` -> ``[B, T, F]``."""
    return keras.layers.Reshape((-1, f), name=name)(t)


#: The core network's outputs (export names -> layer names), each ``[B, T, F]``:
#: the magnitude mask in (0, beta) and the phase decoder's (r, i) maps. The rest
#: of the model is a small head: ``mag_c_out = mag_c * mask``,
#: ``pha_out = atan2(phase_i, phase_r)`` and ``com_out``.
CORE_OUTPUTS = {"mask": "mask_tf", "phase_r": "phase_r", "phase_i": "phase_i"}


def check_frames(num_frames: int) -> None:
    """Raise ``ValueError`` unless T is a positive multiple of 4."""
    if num_frames is not None and (num_frames <= 0 or num_frames % 4):
        raise ValueError(
            "The number of STFT frames T must be a positive multiple of 4 (the U-Net "
            f"halves it twice). Received: T={num_frames}"
        )


def _build_graph(cfg: IMSEConfig, num_frames: int | None):
    """The functional graph of IMSE: ``([mag_c, pha], [mag_c_out, pha_out, com_out])``."""
    check_frames(num_frames)
    c, f = cfg.dense_channel, cfg.num_freqs

    # === Inputs: [B, T, F] -> [B, T, F, 2] ===
    mag_in = keras.Input((num_frames, f), name="mag_c")
    pha_in = keras.Input((num_frames, f), name="pha")
    x = keras.layers.Concatenate(name="stack_inputs")(
        [_tf_to_tf1(mag_in, f, "mag_tf"), _tf_to_tf1(pha_in, f, "pha_tf")]
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

    # === The core's outputs, [B, T, F] (what an export computes) ===
    mask = _tf1_to_tf(mask, f, CORE_OUTPUTS["mask"])
    real = _tf1_to_tf(real, f, CORE_OUTPUTS["phase_r"])
    imag = _tf1_to_tf(imag, f, CORE_OUTPUTS["phase_i"])

    # === The head: mask times input, atan2, polar to cartesian ===
    mag_out = keras.layers.Multiply(name="mag_c_out")([mag_in, mask])
    pha_out = Atan2(name="pha_out")([real, imag])
    com_out = PolarToCartesian(name="com_out")([mag_out, pha_out])
    return [mag_in, pha_in], [mag_out, pha_out, com_out]


@keras.saving.register_keras_serializable(package="imse_keras")
class IMSE(keras.Model):
    """The IMSE generator: a functional ``keras.Model`` whose arguments are its config.

    Called as ``mag_c_out, pha_out, com_out = model([mag_c, pha])``, with

    * inputs ``mag_c`` ``[B, T, F]`` (compressed magnitude ``|X|**0.3``) and
      ``pha`` ``[B, T, F]`` (phase in radians), F = ``n_fft // 2 + 1`` = 256,
      frames first as :meth:`imse_keras.frontend.FrontEnd.features` gives them;
    * outputs ``mag_c_out`` ``[B, T, F]``, ``pha_out`` ``[B, T, F]`` and
      ``com_out`` ``[B, T, F, 2]`` (compressed real/imaginary parts).

    T must be a multiple of 4; it may change from call to call. Internally the
    layout is channels-last ``[B, T, F, C]``. (The official PyTorch model is
    ``[B, F, T]``; transpose its arrays with ``swapaxes(1, 2)``.)

    The constructor arguments are the fields of :class:`IMSEConfig` (network and
    front-end numbers) plus ``num_frames``; :meth:`get_config` returns them, so
    the model round-trips through ``.keras`` files and carries its front end:
    ``model.imse_config`` is the :class:`IMSEConfig` it was built from.

    Args:
        dense_channel, num_blocks, dense_depth, ffn_expansion, idconv_pointwise,
        sampling_rate, n_fft, hop_length, compress_factor, beta, segment_size:
            see :class:`IMSEConfig` (defaults: the released model, preset ``imse``).
        num_frames: fix T in the input signature (``None``: any T, the default).
        name: model name.

    Example:

    ```python
    model = IMSE.from_preset("imse")              # official g_best_pesq_3.399 weights
    model = IMSE(**PRESETS["tiny"].to_dict())     # random init, any preset's numbers
    ```
    """

    def __init__(
        self,
        dense_channel: int = 16,
        num_blocks: int = 4,
        dense_depth: int = 4,
        ffn_expansion: float = 2.66,
        idconv_pointwise: bool = True,
        sampling_rate: int = 16000,
        n_fft: int = 510,
        hop_length: int = 100,
        compress_factor: float = 0.3,
        beta: float = 2.0,
        segment_size: int = 30700,
        num_frames: int | None = None,
        name: str = "imse",
        **kwargs,
    ):
        cfg = IMSEConfig(
            dense_channel=dense_channel, num_blocks=num_blocks, dense_depth=dense_depth,
            ffn_expansion=ffn_expansion, idconv_pointwise=idconv_pointwise,
            sampling_rate=sampling_rate, n_fft=n_fft, hop_length=hop_length,
            compress_factor=compress_factor, beta=beta, segment_size=segment_size,
        )
        inputs, outputs = _build_graph(cfg, num_frames)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self.imse_config = cfg
        self.num_frames = num_frames

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            **self.imse_config.to_dict(),
            "num_frames": self.num_frames,
        }

    @classmethod
    def from_config(cls, config: dict) -> "IMSE":
        return cls(**config)

    def predict(self, *args, **kwargs):
        """``keras.Model.predict`` under :func:`imse_keras.runtime.graph_options`."""
        from imse_keras.runtime import graph_options

        with graph_options():
            return super().predict(*args, **kwargs)

    def predict_on_batch(self, x):
        """``keras.Model.predict_on_batch`` under :func:`imse_keras.runtime.graph_options`."""
        from imse_keras.runtime import graph_options

        with graph_options():
            return super().predict_on_batch(x)

    def core(self) -> keras.Model:
        """The core network: ``[mag_c, pha]`` -> ``{"mask", "phase_r", "phase_i"}``.

        A functional sub-model over this model's own layers (the same weights,
        not a copy): inputs ``mag_c``, ``pha`` ``[B, T, F]``; outputs ``mask``
        ``[B, T, F]`` in (0, beta) and the phase decoder's ``phase_r``,
        ``phase_i`` ``[B, T, F]``. The rest of the model is the head a host
        computes itself: ``mag_c_out = mag_c * mask``, ``pha_out =
        atan2(phase_i, phase_r)``.
        """
        return keras.Model(
            self.inputs,
            {name: self.get_layer(layer).output for name, layer in CORE_OUTPUTS.items()},
            name="imse_core",
        )

    def export_graph(self, num_frames: int | None = None) -> keras.Model:
        """What ``imse export`` converts: :meth:`core` at batch 1 and a fixed T.

        The model you load is the model you export: the graph calls this
        model's own layers, so its float outputs are the Keras model's (to
        float rounding; asserted at official sizes in ``tests/test_export.py``).
        At a static T the layers trace their lean form (e.g. MALA's RoPE tables
        fold into small constants).

        Args:
            num_frames: T of the graph; ``None`` uses ``segment_frames`` (308 for
                the official front end), the length
                :class:`~imse_keras.enhance.Enhancer` always feeds. ``0`` gives a
                dynamic T (any multiple of 4; RoPE tables are then computed in the
                graph, which suits float exports only).

        Returns:
            A ``keras.Model`` named ``imse_export``: inputs ``mag_c``, ``pha``
            ``[1, T, F]``, outputs ``mask``, ``phase_r``, ``phase_i`` ``[1, T, F]``.

        Raises:
            ValueError: T not a positive multiple of 4.
        """
        cfg = self.imse_config
        if num_frames is None:
            num_frames = cfg.segment_frames
        frames = None if num_frames == 0 else int(num_frames)
        check_frames(frames)
        inputs = [
            keras.Input(batch_shape=(1, frames, cfg.num_freqs), name=name)
            for name in ("mag_c", "pha")
        ]
        return keras.Model(inputs, self.core()(inputs), name="imse_export")

    @classmethod
    def from_preset(
        cls,
        name_or_path: str | os.PathLike,
        *,
        config: IMSEConfig | str | None = None,
        load_weights: bool = True,
        allow_download: bool = True,
        progress: bool = True,
    ) -> "IMSE":
        """An IMSE from a preset name or a file.

        Args:
            name_or_path: a preset name from :data:`imse_keras.config.PRESETS`
                (``"imse"``: the official ``g_best_pesq_3.399`` weights, found via
                ``$IMSE_WEIGHTS``, the download cache, or downloaded once), an
                official checkpoint name (``"g_best_pesq_3.373"``, ``"3.373"``), a
                ``.keras`` file, a Keras ``.weights.h5`` file or a PyTorch checkpoint.
            config: architecture of a ``.weights.h5`` or PyTorch file (a preset
                name or :class:`IMSEConfig`; default ``"imse"``). Not used otherwise.
            load_weights: ``False`` builds a preset with a random init (the only
                option for presets without published weights, e.g. ``"tiny"``).
            allow_download: fetch the official checkpoint if no local copy exists.
            progress: show a download progress bar on a terminal.

        Raises:
            ValueError: an unknown name, or weights asked of a preset that has none.
            FileNotFoundError: a path that does not exist.
            imse_keras.weights.CheckpointError, WeightsNotFoundError, DownloadError:
                see :func:`imse_keras.weights.load.load_pretrained`.
        """
        from imse_keras.config import PRESET_WEIGHTS, PRESETS, preset_names
        from imse_keras.weights.load import load_pretrained

        load = functools.partial(load_pretrained, allow_download=allow_download, progress=progress)
        name = os.fspath(name_or_path)
        if name in PRESETS:
            if config is not None:
                raise ValueError(f"config= is for weight files; preset {name!r} has its own")
            if not load_weights:
                return cls(**PRESETS[name].to_dict())
            if name not in PRESET_WEIGHTS:
                raise ValueError(
                    f"Preset {name!r} has no published weights (presets with weights: "
                    f"{', '.join(PRESET_WEIGHTS)}); pass load_weights=False for a random init"
                )
            return load(PRESET_WEIGHTS[name], preset=name)
        if name.endswith(".keras"):
            path = Path(name).expanduser()
            if not path.is_file():
                raise FileNotFoundError(f"Keras model file not found: {path}")
            from imse_keras.weights.load import load_keras_strict

            model = load_keras_strict(path)
            if not isinstance(model, IMSE):
                raise ValueError(f"{path} holds a {type(model).__name__}, not an IMSE model")
            return model
        from imse_keras.weights.pretrained import get_checkpoint

        if not Path(name).expanduser().exists():
            try:
                get_checkpoint(name)
            except KeyError:
                raise ValueError(
                    f"{name!r} is neither a preset ({', '.join(preset_names())}), an "
                    "official checkpoint name, nor an existing file"
                ) from None
        return load(name, preset=config if config is not None else "imse")


def build_model(config: IMSEConfig | str = "imse", num_frames: int | None = None) -> IMSE:
    """Build the IMSE generator with a random init.

    Args:
        config: an :class:`IMSEConfig` or a preset name (``"imse"``, ``"tiny"``, ...).
        num_frames: fix T in the input signature (``None``: any T, the default).

    Returns:
        An :class:`IMSE` (a functional ``keras.Model`` named ``imse``), called as
        ``mag_c_out, pha_out, com_out = model([mag_c, pha])``; see :class:`IMSE`.
    """
    return IMSE(**get_config(config).to_dict(), num_frames=num_frames)
