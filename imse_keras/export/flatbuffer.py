"""Read a ``.tflite`` flatbuffer: its op types, custom ops and tensor types.

Uses the schema bindings shipped with ``ai_edge_litert``, so it needs neither
TensorFlow nor an interpreter.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

__all__ = ["ModelSummary", "op_names", "op_types", "summarize_model"]

_TENSOR_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64",
                 6: "bool", 7: "int16", 9: "int8", 10: "float64"}


@dataclass(frozen=True)
class ModelSummary:
    """What a ``.tflite`` file computes with.

    Attributes:
        op_counts: ``{op type: count}`` over the main subgraph, e.g. ``{"CONV_2D": 147}``;
            custom ops appear as ``"CUSTOM:<name>"`` (Flex ops as ``CUSTOM:Flex...``).
        float_op_counts: the same for ops whose first output is float32 or float16
            (in an int8 model: the ops left in float, plus DEQUANTIZE).
        custom_ops: names of the custom (non-builtin) op codes, Flex ops included.
        num_subgraphs: subgraphs in the file (1 for this project's graphs).
    """

    op_counts: dict[str, int]
    float_op_counts: dict[str, int]
    custom_ops: tuple[str, ...]
    num_subgraphs: int

    @property
    def num_ops(self) -> int:
        return sum(self.op_counts.values())

    def to_dict(self) -> dict:
        return {
            "num_ops": self.num_ops,
            "op_counts": dict(self.op_counts),
            "float_op_counts": dict(self.float_op_counts),
            "custom_ops": list(self.custom_ops),
        }


def _builtin_names() -> dict[int, str]:
    from ai_edge_litert import schema_py_generated as schema

    return {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def op_types(parsed) -> list[str]:
    """The op type of each operator code of a parsed ``ModelT``, by code index:
    ``"CONV_2D"``, ..., ``"CUSTOM:<name>"`` for custom ops (Flex included),
    ``"BUILTIN_<n>"`` for a builtin this schema does not name."""
    from ai_edge_litert import schema_py_generated as schema

    names = _builtin_names()
    types = []
    for code in parsed.operatorCodes:
        # Op codes above 127 live in builtinCode; older files only set the deprecated byte.
        number = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        if number == schema.BuiltinOperator.CUSTOM:
            types.append(f"CUSTOM:{(code.customCode or b'').decode('utf-8', 'replace')}")
        else:
            types.append(names.get(number, f"BUILTIN_{number}"))
    return types


def summarize_model(model: bytes) -> ModelSummary:
    """Op inventory of a ``.tflite`` model given as bytes.

    Raises:
        ValueError: the bytes are not a TFLite flatbuffer.
    """
    from ai_edge_litert import schema_py_generated as schema

    buf = bytes(model)
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ValueError("not a TFLite flatbuffer (missing the 'TFL3' identifier)")
    parsed = schema.ModelT.InitFromPackedBuf(buf, 0)
    op_names = op_types(parsed)
    custom = [name[len("CUSTOM:"):] for name in op_names if name.startswith("CUSTOM:")]
    counts, float_counts = Counter(), Counter()
    for graph in parsed.subgraphs:
        for op in graph.operators:
            name = op_names[op.opcodeIndex]
            counts[name] += 1
            outputs = [int(i) for i in (op.outputs if op.outputs is not None else []) if i >= 0]
            if outputs and _TENSOR_TYPES.get(int(graph.tensors[outputs[0]].type)) in (
                "float32", "float16"
            ):
                float_counts[name] += 1
    order = lambda c: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))  # noqa: E731
    return ModelSummary(
        op_counts=order(counts),
        float_op_counts=order(float_counts),
        custom_ops=tuple(sorted(set(custom))),
        num_subgraphs=len(parsed.subgraphs),
    )


def op_names(model: bytes) -> list[tuple[str, str]]:
    """``(op type, name of its first output tensor)`` for every op of the main
    subgraph, in execution order (names are empty in a compacted model)."""
    from ai_edge_litert import schema_py_generated as schema

    parsed = schema.ModelT.InitFromPackedBuf(bytes(model), 0)
    types = op_types(parsed)
    graph = parsed.subgraphs[0]
    result = []
    for op in graph.operators:
        kind = types[op.opcodeIndex]
        outputs = [int(i) for i in (op.outputs if op.outputs is not None else []) if i >= 0]
        name = graph.tensors[outputs[0]].name.decode("utf-8", "replace") if outputs else ""
        result.append((kind, name))
    return result
