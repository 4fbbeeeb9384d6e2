"""The export graph: the trained network re-wired for a phone.

:func:`build_export_model` takes a model from :func:`imse_keras.model.build_model`
(any weights) and returns a ``keras.Model`` that shares its layers, and so its
weights and float math, but has the I/O a device wants:

* inputs ``mag_c`` and ``pha``, each ``[1, T, F]`` (frames first, the order an
  STFT produces them in; no transpose in the graph), float32;
* outputs ``mask`` ``[1, T, F]`` (the magnitude mask in (0, beta)), and
  ``phase_r``, ``phase_i`` ``[1, T, F]`` (the phase decoder's two maps).

The host forms ``mag_c_out = mag_c * mask`` and the phase
``atan2(phase_i, phase_r)`` (or directly ``cos = r / |(r, i)|``,
``sin = i / |(r, i)|``), so the graph has no ATAN2/COS/SIN and the magnitude
multiply stays in float even in an int8 model.

Two rewrites that keep the float result (the first bit-exact, the second up
to float rounding) and help int8:

* SKFF with one path multiplies by ``exp(l - l) / exp(l - l) = 1``; it is dropped
  (it would add EXP and an int8 DIV to the graph).
* The first 1x1 conv reads ``concat([mag_c, pha])``; it is applied to each
  input separately and summed (:mod:`~imse_keras.export.split_conv`), so an
  int8 graph gives the two inputs their own scales.

Everything else is the trained layers' own call: they are written so that the
converter emits a lean graph (MALA without GATHER, transposes or 5-D reshapes,
RoPE tables per axis that fold into small constants at a fixed T; see
:class:`~imse_keras.layers.MagnitudeAwareLinearAttention`).
"""

from __future__ import annotations

import keras

from imse_keras.config import IMSEConfig, get_config
from imse_keras.export.io_names import EXPORT_INPUTS, EXPORT_OUTPUTS
from imse_keras.export.split_conv import SplitInputConv
from imse_keras.layers import SKFF
from imse_keras.model import build_model, check_frames

__all__ = ["build_export_model", "EXPORT_INPUTS", "EXPORT_OUTPUTS"]

# Layers of build_model() whose outputs the export graph returns, by output name.
_SOURCE_LAYERS = {"mask": "mask", "phase_r": "phadec_conv_r", "phase_i": "phadec_conv_i"}
# The first conv reads concat([mag, pha]); the export applies it per input.
_INPUT_CONCAT, _INPUT_CONV = "stack_inputs", "enc_conv1"


def build_export_model(
    model: keras.Model,
    config: IMSEConfig | str = "imse",
    num_frames: int | None = None,
) -> keras.Model:
    """The export graph of a trained IMSE model (see the module docstring).

    Args:
        model: from :func:`imse_keras.model.build_model` (e.g. loaded with
            :func:`imse_keras.weights.load.load_model`), built for ``config``.
        config: the model's preset or config.
        num_frames: T of the graph; ``None`` uses ``config.segment_frames``
            (308), the length the :class:`~imse_keras.enhance.Enhancer` always
            feeds. ``0`` gives a dynamic T (any multiple of 4; RoPE tables are then
            computed in the graph, which suits float exports only).

    Returns:
        A ``keras.Model`` named ``imse_export`` with inputs ``mag_c``, ``pha``
        ``[1, T, F]`` and outputs ``mask``, ``phase_r``, ``phase_i`` ``[1, T, F]``.
        It shares the layers of a rebuilt model holding a copy of ``model``'s
        weights, so changing ``model`` afterwards does not change it.

    Raises:
        ValueError: T not a positive multiple of 4, or weights that do not fit
            ``config``.
    """
    cfg = get_config(config)
    if num_frames is None:
        num_frames = cfg.segment_frames
    frames = None if num_frames == 0 else int(num_frames)
    check_frames(frames)
    f = cfg.num_freqs

    # A fresh copy with the static T in its layers' input shapes (lean graph).
    fixed = build_model(cfg, num_frames=frames)
    source, target = model.weights, fixed.weights
    if len(source) != len(target) or any(
        tuple(a.shape) != tuple(b.shape) for a, b in zip(source, target)
    ):
        raise ValueError(
            f"The model's weights do not fit the {cfg!r} architecture; pass the config "
            "the model was built with."
        )
    for dst, src in zip(target, source):
        dst.assign(src)
    core = keras.Model(
        fixed.inputs,
        [fixed.get_layer(_SOURCE_LAYERS[name]).output for name in EXPORT_OUTPUTS],
        name="imse_core",
    )

    concatenated = {}

    def call(layer, *args, **kwargs):
        if isinstance(layer, SKFF):
            return args[0]
        if layer.name == _INPUT_CONCAT:
            concatenated["inputs"] = list(args[0])
        if layer.name == _INPUT_CONV:
            # Left unused, the concatenation drops out of the graph.
            return SplitInputConv(layer, name=f"{layer.name}_split")(concatenated["inputs"])
        return layer(*args, **kwargs)

    inputs = [keras.Input(batch_shape=(1, frames, f), name=name) for name in EXPORT_INPUTS]
    outs = keras.models.clone_model(
        core, input_tensors=inputs, clone_function=lambda layer: layer, call_function=call
    ).outputs
    outputs = {
        name: keras.layers.Reshape((-1, f), name=f"{name}_out")(t)
        for name, t in zip(EXPORT_OUTPUTS, outs)
    }
    return keras.Model(inputs, outputs, name="imse_export")
