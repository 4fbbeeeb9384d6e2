"""Dynamic-range ("hybrid") convolutions inside an int8 model.

A hybrid CONV_2D reads a float32 input and writes a float32 output, but its
filter is an int8 constant with one symmetric scale per output channel (zero
point 0) and its bias a float32 constant: the op form the converter's
dynamic-range mode writes. LiteRT's XNNPACK delegate runs it with its ``qd8``
kernels: the input is quantized to int8 on the fly, each row (pixel) with its own
scale and zero point, and the product accumulates in int32 (VNNI on x86, dot
product on ARM). For a k x k convolution with a few dozen input channels this is
about twice as fast as the float kernel, and since every pixel gets its own
scale, heavy-tailed activations that one static int8 scale cannot serve keep
their precision.

:func:`make_hybrid` turns the float CONV_2D ops that a policy's
``hybrid_scopes`` name into this form; the int8 preset uses it where it measured
a gain (``tflite/README.md``). Its bias must stay a float32 constant (XNNPACK
does not delegate a hybrid conv whose bias is unpacked by a DEQUANTIZE), so
:func:`imse_keras.export.compact.store_constants` leaves the constants of
hybrid ops alone.
"""

from __future__ import annotations

import re

__all__ = ["make_hybrid", "hybrid_op_inputs"]


def _name(tensor) -> str:
    name = tensor.name
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return name or ""


def hybrid_op_inputs(parsed) -> set[tuple[int, int]]:
    """``(subgraph, tensor)`` indices of the inputs of every hybrid CONV_2D /
    DEPTHWISE_CONV_2D / FULLY_CONNECTED in a parsed ``ModelT`` (float32 input,
    int8 filter)."""
    from ai_edge_litert import schema_py_generated as schema

    from imse_keras.export.flatbuffer import op_types

    kinds = op_types(parsed)
    found = set()
    for g, graph in enumerate(parsed.subgraphs):
        for op in graph.operators:
            if kinds[op.opcodeIndex] not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
                continue
            inputs = [int(i) for i in op.inputs]
            if len(inputs) < 2 or min(inputs[:2]) < 0:
                continue
            if (graph.tensors[inputs[0]].type == schema.TensorType.FLOAT32
                    and graph.tensors[inputs[1]].type == schema.TensorType.INT8):
                found.update((g, i) for i in inputs if i >= 0)
    return found


def make_hybrid(model: bytes, scopes: tuple[str, ...]) -> bytes:
    """Give the float CONV_2D ops named by ``scopes`` int8 per-channel filters.

    Args:
        model: a ``.tflite`` flatbuffer with tensor names (before
            :func:`~imse_keras.export.compact.compact_model`).
        scopes: regexes over op names (the first part of an op's output tensor
            name, as for a policy's ``int8_scopes``).

    Returns:
        The model with each matching CONV_2D whose input is float32 and whose
        filter is a float32 constant reading an int8 copy of that filter (one
        symmetric scale per output channel). Other ops, and matching ops
        already quantized, are unchanged.

    Raises:
        imse_keras.export.convert.ExportError: a scope matches no such conv
            (the graph's naming changed, and the policy would silently do nothing).
    """
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema

    from imse_keras.export.compact import pack_model, symmetric_int8
    from imse_keras.export.convert import ExportError
    from imse_keras.export.flatbuffer import op_types

    parsed = schema.ModelT.InitFromPackedBuf(bytes(model), 0)
    kinds = op_types(parsed)
    patterns = [re.compile(p) for p in scopes]
    hits = [0] * len(patterns)
    for graph in parsed.subgraphs:
        uses: dict[int, int] = {}
        for op in graph.operators:
            for i in op.inputs if op.inputs is not None else []:
                uses[int(i)] = uses.get(int(i), 0) + 1
        for op in graph.operators:
            if kinds[op.opcodeIndex] != "CONV_2D":
                continue
            x, w = (graph.tensors[int(i)] for i in op.inputs[:2])
            data = parsed.buffers[w.buffer].data
            if x.type != schema.TensorType.FLOAT32 or w.type != schema.TensorType.FLOAT32 \
                    or data is None or not len(data):
                continue
            own = _name(graph.tensors[int(op.outputs[0])]).split(";")[0]
            matched = [k for k, p in enumerate(patterns) if p.search(own)]
            if not matched:
                continue
            for k in matched:
                hits[k] += 1
            values = np.frombuffer(bytes(bytearray(data)), "<f4").reshape(
                [int(s) for s in w.shape])
            q, scale = symmetric_int8(values, axis=0)  # OHWI: one scale per output channel
            quant = schema.QuantizationParametersT()
            quant.scale = [float(s) for s in scale]
            quant.zeroPoint = [0] * len(scale)
            quant.quantizedDimension = 0
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(q.tobytes(), dtype=np.uint8)
            parsed.buffers.append(buffer)
            filt = schema.TensorT()
            filt.shape = w.shape
            filt.type = schema.TensorType.INT8
            filt.quantization = quant
            filt.buffer = len(parsed.buffers) - 1
            filt.name = w.name
            graph.tensors.append(filt)
            op.inputs = [int(i) for i in op.inputs]
            if uses.get(op.inputs[1], 0) == 1:  # the float32 copy has no other reader
                w.buffer = 0
            op.inputs[1] = len(graph.tensors) - 1
    unused = [p.pattern for p, n in zip(patterns, hits) if n == 0]
    if unused:
        raise ExportError(f"hybrid scope(s) matched no float CONV_2D of the graph: {unused}")
    # The float32 filters no longer read stay as empty tensors without
    # consumers; compact_model (applied to every export) drops the buffers no
    # tensor references.
    return pack_model(parsed)
