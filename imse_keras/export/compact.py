"""Shrink a ``.tflite`` flatbuffer: metadata overhead, and the storage of float constants.

The converter writes, for every one of the ~3,600 tensors of the IMSE graph,
a long scoped name, an empty quantization table, a ``shape_signature`` equal
to its ``shape``, its own copy of its shape vector and an empty buffer: about
0.45 MB of metadata next to 0.43 M weights. :func:`compact_model` removes that
overhead and computes bit-identical outputs:

* tensor names are dropped, except those of the signature's inputs and
  outputs (the contract names them);
* empty quantization tables are removed, and ``shape_signature`` where it
  equals ``shape`` (static tensors);
* tensors without data share buffer 0 (the schema's empty sentinel), and
  unreferenced buffers are deleted;
* identical shape vectors, quantization tables and builtin-options tables are
  written once and shared (a flatbuffer may reference one object many times).

:func:`store_constants` changes how the float32 constants of an int8 model's
float ops (their weights, MALA's RoPE tables) are *stored*: as float16 or int8,
each followed by a DEQUANTIZE op. LiteRT dequantizes a constant input once,
when the model is prepared, so inference still computes in float32; only the
weights' precision changes (as in the converter's ``float16`` and dynamic-range
modes).
"""

from __future__ import annotations

__all__ = ["compact_model", "store_constants", "pack_model", "symmetric_int8", "CONSTANT_STORAGE"]

#: Storage types :func:`store_constants` supports.
CONSTANT_STORAGE = ("float16", "int8")


def _same(a, b) -> bool:
    if a is None or b is None:
        return False
    return [int(x) for x in a] == [int(x) for x in b]


def pack_model(parsed) -> bytes:
    """Serialize a parsed ``ModelT`` to ``.tflite`` bytes, sharing identical shape
    vectors, quantization tables and builtin options (the generated ``Pack``
    writes one copy per use)."""
    import flatbuffers
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema

    builder = flatbuffers.Builder(1 << 20)
    vectors: dict = {}
    tables: dict = {}

    def int_vector(start, values) -> int:
        key = (start.__name__, tuple(int(v) for v in values))
        if key not in vectors:
            start(builder, len(key[1]))
            for v in reversed(key[1]):
                builder.PrependInt32(v)
            vectors[key] = builder.EndVector()
        return vectors[key]

    def quantization_key(q):
        if q.details is not None:
            return None
        def arr(v, dtype):
            return None if v is None else np.asarray(v, dtype).tobytes()
        return (arr(q.scale, np.float32), arr(q.zeroPoint, np.int64), arr(q.min, np.float32),
                arr(q.max, np.float32), int(q.quantizedDimension))

    def pack_tensor(tensor, b):
        shape = None if tensor.shape is None else int_vector(schema.TensorStartShapeVector,
                                                            tensor.shape)
        signature = None
        if tensor.shapeSignature is not None:
            signature = int_vector(schema.TensorStartShapeSignatureVector, tensor.shapeSignature)
        quant = None
        if tensor.quantization is not None:
            key = quantization_key(tensor.quantization)
            if key is None:
                quant = tensor.quantization.Pack(b)
            else:
                if key not in tables:
                    tables[key] = tensor.quantization.Pack(b)
                quant = tables[key]
        name = b.CreateString(tensor.name) if tensor.name else None
        sparsity = tensor.sparsity.Pack(b) if tensor.sparsity is not None else None
        variants = None
        if tensor.variantTensors:
            packed = [v.Pack(b) for v in tensor.variantTensors]
            schema.TensorStartVariantTensorsVector(b, len(packed))
            for off in reversed(packed):
                b.PrependUOffsetTRelative(off)
            variants = b.EndVector()
        schema.TensorStart(b)
        if shape is not None:
            schema.TensorAddShape(b, shape)
        schema.TensorAddType(b, tensor.type)
        schema.TensorAddBuffer(b, tensor.buffer)
        if name is not None:
            schema.TensorAddName(b, name)
        if quant is not None:
            schema.TensorAddQuantization(b, quant)
        schema.TensorAddIsVariable(b, tensor.isVariable)
        if sparsity is not None:
            schema.TensorAddSparsity(b, sparsity)
        if signature is not None:
            schema.TensorAddShapeSignature(b, signature)
        schema.TensorAddHasRank(b, tensor.hasRank)
        if variants is not None:
            schema.TensorAddVariantTensors(b, variants)
        schema.TensorAddExternalBuffer(b, tensor.externalBuffer)
        return schema.TensorEnd(b)

    class _Packed:  # stands in for an options object already written
        def __init__(self, offset):
            self.offset = offset

        def Pack(self, _builder):
            return self.offset

    original_tensor_pack = schema.TensorT.Pack
    originals = []
    try:
        schema.TensorT.Pack = pack_tensor
        for graph in parsed.subgraphs:
            for op in graph.operators:
                options = op.builtinOptions
                if options is None:
                    continue
                key = (type(options).__name__,
                       tuple(sorted((k, repr(v)) for k, v in vars(options).items())))
                if key not in tables:
                    tables[key] = options.Pack(builder)
                originals.append((op, options))
                op.builtinOptions = _Packed(tables[key])
        builder.Finish(parsed.Pack(builder), file_identifier=b"TFL3")
    finally:
        schema.TensorT.Pack = original_tensor_pack
        for op, options in originals:
            op.builtinOptions = options
    return bytes(builder.Output())


def compact_model(model: bytes, keep_names: bool = False) -> bytes:
    """Return ``model`` with its metadata overhead removed (see module docstring).

    Args:
        model: a ``.tflite`` flatbuffer.
        keep_names: keep every tensor name (for debugging with op-level tools).
    """
    from ai_edge_litert import schema_py_generated as schema

    parsed = schema.ModelT.InitFromPackedBuf(bytes(model), 0)
    io_tensors: dict[int, set[int]] = {}
    for sig in parsed.signatureDefs or []:
        keep = io_tensors.setdefault(int(sig.subgraphIndex), set())
        for item in list(sig.inputs or []) + list(sig.outputs or []):
            keep.add(int(item.tensorIndex))

    def has_data(index: int) -> bool:
        buf = parsed.buffers[index]
        return (buf.data is not None and len(buf.data) > 0) or bool(getattr(buf, "size", 0))

    for g, graph in enumerate(parsed.subgraphs):
        keep = io_tensors.get(g, set()) | {int(i) for i in graph.inputs} | {
            int(i) for i in graph.outputs
        }
        for i, tensor in enumerate(graph.tensors):
            if not keep_names and i not in keep:
                tensor.name = None
            q = tensor.quantization
            if q is not None and all(
                v is None or len(v) == 0 for v in (q.scale, q.zeroPoint, q.min, q.max)
            ) and q.details is None:
                tensor.quantization = None
            if _same(tensor.shape, tensor.shapeSignature):
                tensor.shapeSignature = None
            if not has_data(tensor.buffer):
                tensor.buffer = 0

    # Keep buffer 0, buffers with data that tensors use, and metadata buffers.
    used = {0}
    for graph in parsed.subgraphs:
        used.update(int(t.buffer) for t in graph.tensors)
    used.update(int(m.buffer) for m in parsed.metadata or [])
    order = sorted(used)
    remap = {old: new for new, old in enumerate(order)}
    parsed.buffers = [parsed.buffers[i] for i in order]
    for graph in parsed.subgraphs:
        for tensor in graph.tensors:
            tensor.buffer = remap[int(tensor.buffer)]
    for meta in parsed.metadata or []:
        meta.buffer = remap[int(meta.buffer)]
    return pack_model(parsed)


# Filter operands quantized per output channel in int8 storage: (op, input index) -> axis.
_CHANNEL_AXIS = {("CONV_2D", 1): 0, ("DEPTHWISE_CONV_2D", 1): 3, ("FULLY_CONNECTED", 1): 0}


def symmetric_int8(values, axis=None):
    """Symmetric int8 (zero point 0, range +-127) per ``axis`` slice, or per tensor.

    Returns:
        ``(q, scale)``: int8 values and float64 scales (one per slice, or one).
    """
    import numpy as np

    if axis is None:
        amax = np.array([np.max(np.abs(values))], np.float64)
        scale = np.maximum(amax, 1e-30) / 127.0
        q = np.round(values / scale[0])
    else:
        other = tuple(i for i in range(values.ndim) if i != axis)
        amax = np.max(np.abs(values), axis=other).astype(np.float64)
        scale = np.maximum(amax, 1e-30) / 127.0
        shape = [1] * values.ndim
        shape[axis] = -1
        q = np.round(values / scale.reshape(shape))
    return np.clip(q, -127, 127).astype(np.int8), scale


def store_constants(model: bytes, storage: str = "float16", min_elements: int = 16,
                    int8_min_elements: int = 256, per_channel: bool = True) -> bytes:
    """Store float32 constants compactly, each dequantized by a DEQUANTIZE op.

    Args:
        model: a ``.tflite`` flatbuffer.
        storage: ``"float16"``, or ``"int8"``: filters of CONV_2D,
            DEPTHWISE_CONV_2D and FULLY_CONNECTED get symmetric int8 (per output
            channel when ``per_channel``), other constants of at least
            ``int8_min_elements`` values (RoPE tables, norm weights) symmetric
            per-tensor int8, and the remaining ones (biases, small tables) float16.
        min_elements: smaller constants (scalars, biases of 1-channel convs)
            stay float32; they cost less than the op that would unpack them.
        int8_min_elements: see ``storage``.
        per_channel: per-output-channel scales for int8 filters; per-tensor
            saves 12 bytes of scale and zero point per channel.

    Constants with non-finite values, or beyond float16's range, stay float32,
    as do the inputs of hybrid convs (:mod:`imse_keras.export.hybrid`).
    """
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema

    from imse_keras.export.flatbuffer import op_types
    from imse_keras.export.hybrid import hybrid_op_inputs

    if storage not in CONSTANT_STORAGE:
        raise ValueError(f"storage must be one of {CONSTANT_STORAGE}. Received: {storage!r}")
    parsed = schema.ModelT.InitFromPackedBuf(bytes(model), 0)
    float32 = schema.TensorType.FLOAT32
    dequantize = schema.BuiltinOperator.DEQUANTIZE
    types = op_types(parsed)  # of the original op codes, before DEQUANTIZE codes are added

    def op_type(op) -> str:
        return types[op.opcodeIndex]

    opcode_index = {}

    def dequantize_code(version: int) -> int:
        if version not in opcode_index:
            for i, code in enumerate(parsed.operatorCodes):
                if (max(int(code.builtinCode), int(code.deprecatedBuiltinCode)) == dequantize
                        and code.version == version):
                    opcode_index[version] = i
                    break
            else:
                code = schema.OperatorCodeT()
                code.builtinCode = code.deprecatedBuiltinCode = dequantize
                code.version = version
                parsed.operatorCodes.append(code)
                opcode_index[version] = len(parsed.operatorCodes) - 1
        return opcode_index[version]


    # A hybrid conv's float32 bias must stay a plain constant (see
    # imse_keras.export.hybrid); its filter is int8 already.
    hybrid_inputs = hybrid_op_inputs(parsed)
    for g, graph in enumerate(parsed.subgraphs):
        uses: dict[int, set] = {}
        for op in graph.operators:
            for k, i in enumerate(op.inputs if op.inputs is not None else []):
                uses.setdefault(int(i), set()).add((op_type(op), k))
        new_ops = []
        for index in range(len(graph.tensors)):
            tensor = graph.tensors[index]
            data = parsed.buffers[tensor.buffer].data
            if tensor.type != float32 or data is None or len(data) < 4 * min_elements:
                continue
            if (g, index) in hybrid_inputs:
                continue
            values = np.frombuffer(bytes(bytearray(data)), dtype="<f4")
            if not np.all(np.isfinite(values)) or np.max(np.abs(values), initial=0.0) > 65504.0:
                continue
            packed = schema.TensorT()
            packed.shape = tensor.shape
            packed.name = None
            buffer = schema.BufferT()
            consumers = uses.get(index, set())
            axes = {_CHANNEL_AXIS.get(c) for c in consumers}
            is_filter = len(axes) == 1 and None not in axes
            if storage == "int8" and (is_filter or values.size >= int8_min_elements):
                shaped = values.reshape([int(s) for s in tensor.shape])
                axis = axes.pop() if is_filter and per_channel else None
                q, scale = symmetric_int8(shaped, axis)
                quant = schema.QuantizationParametersT()
                quant.scale = [float(s) for s in scale]
                quant.zeroPoint = [0] * len(scale)
                quant.quantizedDimension = 0 if axis is None else int(axis)
                packed.type = schema.TensorType.INT8
                packed.quantization = quant
                buffer.data = np.frombuffer(q.tobytes(), dtype=np.uint8)
                version = 2  # DEQUANTIZE from int8
            else:
                packed.type = schema.TensorType.FLOAT16
                buffer.data = np.frombuffer(values.astype("<f2").tobytes(), dtype=np.uint8)
                version = 3  # DEQUANTIZE from float16
            parsed.buffers.append(buffer)
            packed.buffer = len(parsed.buffers) - 1
            graph.tensors.append(packed)
            parsed.buffers[tensor.buffer].data = None
            tensor.buffer = 0
            op = schema.OperatorT()
            op.opcodeIndex = dequantize_code(version)
            op.inputs = [len(graph.tensors) - 1]
            op.outputs = [index]
            new_ops.append(op)
        graph.operators = new_ops + list(graph.operators)
    # The emptied float32 buffers stay as empty entries; compact_model (which
    # convert_model applies to every export) drops them.
    return pack_model(parsed)
