"""Activation ranges for int8: observe the float model on calibration data.

TFLite's own calibrator (``TFLiteConverter`` with a representative dataset)
takes the global min/max of every tensor over all samples, with single-threaded
reference kernels (about 17 s per 308-frame segment of the official model on
the project machine). :func:`observe_ranges` runs the float ``.tflite`` under
LiteRT instead (all tensors preserved, ``num_threads`` threads), records each
activation's min and max per segment, and :class:`TensorRanges` aggregates
them across segments:

* ``"minmax"``: the global extremes (what TFLite's calibrator does);
* ``"mean"``: the mean of the per-segment extremes (what quantization-aware
  training's moving averages converge to). Robust to a few segments with
  outliers, at the price of saturating those.

:func:`write_ranges` stores ranges in the float model's tensors exactly where
TFLite's calibrator puts them (``quantization.min`` / ``.max``), so the
result goes to the same quantizer (:func:`imse_keras.export.convert.quantize_calibrated`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imse_keras.export.calibration import CalibrationSet

__all__ = ["TensorRanges", "AGGREGATIONS", "observe_ranges", "write_ranges"]

#: How per-segment ranges are combined (see the module docstring).
AGGREGATIONS = ("minmax", "mean")

_FLOAT32 = 0  # TensorType.FLOAT32 in the TFLite schema


@dataclass(frozen=True)
class TensorRanges:
    """Per-segment min and max of every activation tensor of a float model.

    Attributes:
        indices: tensor indices in the main subgraph, ``[K]``.
        names: their names.
        mins, maxs: ``[N segments, K]`` float64.
    """

    indices: np.ndarray
    names: tuple[str, ...]
    mins: np.ndarray
    maxs: np.ndarray

    def aggregate(self, how: str = "minmax") -> dict[int, tuple[float, float]]:
        """``{tensor index: (min, max)}`` over segments, see :data:`AGGREGATIONS`."""
        if how == "minmax":
            lo, hi = self.mins.min(axis=0), self.maxs.max(axis=0)
        elif how == "mean":
            lo, hi = self.mins.mean(axis=0), self.maxs.mean(axis=0)
        else:
            raise ValueError(f"how must be one of {AGGREGATIONS}. Received: how={how!r}")
        return {int(i): (float(a), float(b)) for i, a, b in zip(self.indices, lo, hi)}


def _activation_tensors(model: bytes) -> tuple[list[int], list[str]]:
    """Float32 tensors that are graph inputs or op outputs (not constants)."""
    from ai_edge_litert import schema_py_generated as schema

    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    graph = parsed.subgraphs[0]
    produced = {int(i) for op in graph.operators for i in (op.outputs if op.outputs is not None else [])}
    produced |= {int(i) for i in graph.inputs}
    indices, names = [], []
    for i, tensor in enumerate(graph.tensors):
        has_data = parsed.buffers[tensor.buffer].data is not None
        if i in produced and tensor.type == _FLOAT32 and not has_data:
            indices.append(i)
            names.append(tensor.name.decode("utf-8", "replace"))
    return indices, names


def observe_ranges(
    float_model: bytes, calibration: CalibrationSet, num_threads: int = 2
) -> TensorRanges:
    """Run ``float_model`` on every calibration segment and record tensor ranges.

    Args:
        float_model: a float32 ``.tflite`` export graph (inputs ``mag_c``, ``pha``).
        calibration: the representative data.
        num_threads: interpreter threads.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    indices, names = _activation_tensors(float_model)
    # No delegate: XNNPACK would fuse ops and hide their intermediate tensors.
    interpreter = Interpreter(
        model_content=bytes(float_model),
        num_threads=num_threads,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    runner_inputs = interpreter.get_signature_runner("serving_default").get_input_details()
    feeds = {name: detail["index"] for name, detail in runner_inputs.items()}
    mins = np.empty((len(calibration), len(indices)))
    maxs = np.empty_like(mins)
    for n, sample in enumerate(calibration.representative_dataset()):
        for name, value in sample.items():
            interpreter.set_tensor(feeds[name], value)
        interpreter.invoke()
        for k, index in enumerate(indices):
            view = interpreter.tensor(index)()  # no copy; read before the next invoke
            mins[n, k] = view.min()
            maxs[n, k] = view.max()
            del view
    return TensorRanges(np.asarray(indices), tuple(names), mins, maxs)


def write_ranges(float_model: bytes, ranges: dict[int, tuple[float, float]]) -> bytes:
    """The float model with ``ranges`` stored as its tensors' calibration min/max."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    parsed = schema.ModelT.InitFromPackedBuf(bytes(float_model), 0)
    graph = parsed.subgraphs[0]
    for index, (lo, hi) in ranges.items():
        params = schema.QuantizationParametersT()
        params.min, params.max = [float(lo)], [float(hi)]
        graph.tensors[index].quantization = params
    builder = flatbuffers.Builder(len(float_model) + 1024)
    builder.Finish(parsed.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
