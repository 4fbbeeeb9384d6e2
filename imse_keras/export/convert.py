"""Conversion: export graph + quantization policy (+ calibration data) -> ``.tflite`` bytes.

Path (the one that works with Keras 3 in TF 2.21, see
``../shared/notes/toolchain.md``): ``model.export(..., format="tf_saved_model")``,
then ``tf.lite.TFLiteConverter.from_saved_model`` with builtin ops only.

int8 goes in two steps so that the slow part runs once: the converter
*calibrates* (records every tensor's min/max over the representative data:
TensorFlow's calibrator on one segment for the graph, then :func:`record_ranges`
with LiteRT's own kernels over all segments, about 10x faster than feeding
them all to TensorFlow's calibrator), then
the calibrated model is quantized with the policy's denylist, the same call
:class:`tf.lite.experimental.QuantizationDebugger` makes (``mlir_quantize``
with ``denylisted_ops`` / ``denylisted_nodes``; the policy's ``int8_scopes``
become ``denylisted_nodes`` for every op outside them). :func:`calibrate` and
:func:`quantize_calibrated` expose the two steps for sensitivity studies.
The float convs the policy's ``hybrid_scopes`` name then get int8 filters
(:func:`imse_keras.export.hybrid.make_hybrid`), and the remaining float
constants their storage type (``float_constants``).

Every file is then compacted (:mod:`imse_keras.export.compact`; bit-identical
outputs) and checked: a Flex (Select TF) or any other custom op raises
:class:`ExportError`.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from imse_keras.export.calibration import CalibrationSet
from imse_keras.export.compact import compact_model, store_constants
from imse_keras.export.flatbuffer import ModelSummary, op_names, summarize_model
from imse_keras.export.hybrid import make_hybrid
from imse_keras.export.policy import QuantizationPolicy, get_policy

__all__ = [
    "ConversionResult",
    "ExportError",
    "calibrate",
    "check_builtin_only",
    "record_ranges",
    "convert_model",
    "float_nodes_outside",
    "quantize_calibrated",
    "save_graph",
]


class ExportError(RuntimeError):
    """Conversion failed or produced a model that breaks the export rules."""


@dataclass(frozen=True)
class ConversionResult:
    """A converted model.

    Attributes:
        model: the ``.tflite`` flatbuffer.
        policy: the policy it was converted with.
        summary: its op inventory.
        calibration: the calibration set's ``info`` (int8), else ``None``.
    """

    model: bytes
    policy: QuantizationPolicy
    summary: ModelSummary
    calibration: dict | None = None


def check_builtin_only(model: bytes) -> ModelSummary:
    """Raise :class:`ExportError` if the model has custom (e.g. Flex) ops.

    Returns:
        The model's :class:`~imse_keras.export.flatbuffer.ModelSummary`.
    """
    summary = summarize_model(model)
    if summary.custom_ops:
        raise ExportError(
            "the converted model needs non-builtin ops, which LiteRT on a phone cannot run "
            f"without the Flex delegate: {', '.join(summary.custom_ops)}"
        )
    return summary


def _converter(saved_model_dir: str):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter


def save_graph(export_model, directory: str | Path) -> str:
    """Write the export graph as a TF SavedModel (the converter's input) under
    ``directory``; returns its path. Reusable across :func:`convert_model` calls."""
    import tensorflow as tf

    path = Path(directory) / "saved_model"
    # The graph's own static shapes (batch 1), not Keras' default batch None: a
    # static batch folds the SHAPE/PACK ops that a dynamic one adds to every reshape.
    signature = [[tf.TensorSpec(tuple(t.shape), tf.float32, name=t.name) for t in export_model.inputs]]
    export_model.export(str(path), format="tf_saved_model", input_signature=signature, verbose=False)
    return str(path)


def _tf_calibrate(saved_model_dir: str, calibration: CalibrationSet) -> bytes:
    """TensorFlow's calibrator: float model with min/max on every tensor it logs."""
    import tensorflow as tf

    converter = _converter(saved_model_dir)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = calibration.representative_dataset
    converter.experimental_new_quantizer = True
    converter._experimental_calibrate_only = True  # as QuantizationDebugger does
    with warnings.catch_warnings():
        # The TF calibrator runs the deprecated tf.lite.Interpreter internally;
        # nothing the user can act on.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        return converter.convert()


def record_ranges(calibrated: bytes, calibration: CalibrationSet) -> bytes:
    """Replace the min/max statistics of a calibrated model by those of ``calibration``.

    Runs the calibrated float model with LiteRT's builtin kernels (no delegate,
    every tensor preserved) once per segment and records each logged tensor's
    min and max over all segments: the statistics TensorFlow's calibrator
    gathers (plain min/max over the representative data), about 10x faster.
    Only tensors that already carry statistics get new ones.
    """
    import flatbuffers
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    parsed = schema.ModelT.InitFromPackedBuf(bytes(calibrated), 0)
    graph = parsed.subgraphs[0]
    logged = [i for i, t in enumerate(graph.tensors)
              if t.quantization is not None and t.quantization.min is not None
              and len(t.quantization.min) == 1]
    interp = Interpreter(
        model_content=bytes(calibrated), num_threads=1,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interp.allocate_tensors()
    inputs = {d["name"]: d["index"] for d in interp.get_input_details()}
    by_name = {}
    for name, index in inputs.items():
        for key in ("mag_c", "pha"):
            if key in name:
                by_name[key] = index
    if set(by_name) != {"mag_c", "pha"}:
        raise ExportError(f"calibrated model inputs not recognised: {sorted(inputs)}")
    lo = np.full(len(logged), np.inf)
    hi = np.full(len(logged), -np.inf)
    for batch in calibration.representative_dataset():
        for key, index in by_name.items():
            interp.set_tensor(index, batch[key])
        interp.invoke()
        for k, index in enumerate(logged):
            value = interp.get_tensor(index)
            if value.size:
                lo[k] = min(lo[k], float(value.min()))
                hi[k] = max(hi[k], float(value.max()))
    del interp
    for k, index in enumerate(logged):
        if np.isfinite(lo[k]) and np.isfinite(hi[k]):
            q = graph.tensors[index].quantization
            q.min, q.max = [float(lo[k])], [float(hi[k])]
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(parsed.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def calibrate(saved_model_dir: str, calibration: CalibrationSet, fast: bool = True) -> bytes:
    """Run the representative data through the float model, recording ranges.

    Args:
        fast: let TensorFlow's calibrator see only the first segment (it gives
            the calibrated graph and which tensors to log) and record the
            ranges over all segments with :func:`record_ranges`; ``False``
            feeds every segment to TensorFlow's calibrator (about 17 s per
            segment of the official model).

    Returns:
        The float model with min/max statistics on every tensor (input of
        :func:`quantize_calibrated`).
    """
    if not fast or len(calibration) == 1:
        return _tf_calibrate(saved_model_dir, calibration)
    first = CalibrationSet(calibration.mag_c[:1], calibration.pha[:1], dict(calibration.info))
    return record_ranges(_tf_calibrate(saved_model_dir, first), calibration)


def float_nodes_outside(model: bytes, scopes: tuple[str, ...]) -> tuple[str, ...]:
    """Output-tensor names of the ops whose name matches none of ``scopes``.

    A fused op's name is ``"a;b;..."``; its first part (the op's own scope) is
    matched. These names are what ``mlir_quantize``'s ``denylisted_nodes`` takes.

    Raises:
        ExportError: a scope matches no op (the graph's naming changed, and the
            policy would silently quantize nothing there).
    """
    patterns = [re.compile(p) for p in scopes]
    hits = [0] * len(patterns)
    outside = []
    for _, output_name in op_names(model):
        own = output_name.split(";")[0]
        matched = False
        for k, pattern in enumerate(patterns):
            if pattern.search(own):
                hits[k] += 1
                matched = True
        if not matched:
            outside.append(output_name)
    unused = [p.pattern for p, n in zip(patterns, hits) if n == 0]
    if unused:
        raise ExportError(f"int8 scope(s) matched no op of the graph: {unused}")
    return tuple(outside)


def quantize_calibrated(calibrated: bytes, policy: QuantizationPolicy, verify: bool = False) -> bytes:
    """Quantize a calibrated model as ``policy`` says (int8 policies only).

    Args:
        calibrated: from :func:`calibrate`.
        policy: an int8-activation policy; ``float_ops``, ``float_nodes`` and
            every op outside ``int8_scopes`` stay float32.
        verify: add NumericVerify ops (a debug model for
            :class:`tf.lite.experimental.QuantizationDebugger`; not for deployment).
    """
    import tensorflow as tf
    from tensorflow.lite.python import convert as tfl_convert

    if policy.activations != "int8":
        raise ValueError(f"policy {policy.name!r} has no int8 activations to quantize")
    nodes = list(policy.float_nodes)
    if policy.int8_scopes:
        nodes += [n for n in float_nodes_outside(calibrated, policy.int8_scopes) if n not in nodes]
    io_type = tf.int8 if policy.io == "int8" and not verify else tf.float32
    return tfl_convert.mlir_quantize(
        calibrated,
        disable_per_channel=not policy.per_channel,
        fully_quantize=policy.io == "int8" and not verify,
        input_data_type=io_type,
        output_data_type=io_type,
        enable_numeric_verify=verify,
        denylisted_ops=list(policy.float_ops) or None,
        denylisted_nodes=nodes or None,
    )


def convert_model(
    export_model,
    policy: QuantizationPolicy | str,
    calibration: CalibrationSet | None = None,
    *,
    calibrated: bytes | None = None,
    saved_model: str | None = None,
    compact: bool = True,
) -> ConversionResult:
    """Convert an export graph (:meth:`imse_keras.IMSE.export_graph`)
    to TFLite as ``policy`` says.

    Args:
        export_model: the Keras export graph.
        policy: a :class:`QuantizationPolicy` or preset name.
        calibration: representative data; required when the policy has int8
            activations.
        calibrated: a model already calibrated by :func:`calibrate` for this
            graph (skips the calibration run; ``calibration`` is then only
            recorded as provenance).
        saved_model: the graph already written by :func:`save_graph` (skips
            writing it again; ``export_model`` is then unused).
        compact: drop tensor names and other metadata overhead
            (:func:`~imse_keras.export.compact.compact_model`).

    Raises:
        ValueError: an int8 policy without calibration data.
        ExportError: conversion failed, or the result has non-builtin ops.
    """
    import tensorflow as tf

    policy = get_policy(policy)
    if policy.needs_calibration and calibration is None and calibrated is None:
        raise ValueError(f"mode {policy.name!r} needs calibration data (representative dataset)")
    with tempfile.TemporaryDirectory(prefix="imse-export-") as tmp:
        try:
            saved = saved_model or save_graph(export_model, tmp)
            if policy.needs_calibration:
                if calibrated is None:
                    calibrated = calibrate(saved, calibration)
                model = quantize_calibrated(calibrated, policy)
                if policy.hybrid_scopes:
                    model = make_hybrid(model, policy.hybrid_scopes)
                if policy.float_constants != "float32":
                    model = store_constants(model, policy.float_constants,
                                            per_channel=policy.per_channel)
            else:
                converter = _converter(saved)
                if policy.weights in ("float16", "int8"):
                    converter.optimizations = [tf.lite.Optimize.DEFAULT]
                if policy.weights == "float16":
                    converter.target_spec.supported_types = [tf.float16]
                model = converter.convert()
        except ExportError:
            raise
        except Exception as err:  # converter errors come in many types
            raise ExportError(f"TFLite conversion ({policy.name}) failed: {err}") from err
    if compact:
        model = compact_model(model)
    summary = check_builtin_only(model)
    info = dict(calibration.info) if calibration is not None else None
    return ConversionResult(bytes(model), policy, summary, info)
