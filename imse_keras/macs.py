"""Model cost: multiply-accumulates counted from the traced TensorFlow graph.

Counts convolutions, matrix products and einsums (the ops that dominate), not
element-wise work, as the graph executes them. The official code counts 4.52 GMAC
per second of audio; our layers execute 4.78 at a fixed T (block-diagonal per-head
attention products and the frequency RoPE's pair swap as a +-1 conv replace einsums
and gathers; the time RoPE folds into per-frame matrices; the decoders compute only
the kept half of their upsampling conv).
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["count_macs", "macs_per_second"]


def _shape(tensor) -> list[int]:
    return [int(d) for d in tensor.shape]


def _einsum_macs(equation: str, inputs) -> int:
    lhs = equation.replace(" ", "").split("->")[0]
    sizes: dict[str, int] = {}
    for term, tensor in zip(lhs.split(","), inputs):
        for letter, dim in zip(term, _shape(tensor)):
            sizes[letter] = dim
    return int(np.prod(list(sizes.values()), dtype=np.int64))


def count_macs(model, num_frames: int) -> int:
    """MACs of one forward pass of ``model`` on inputs of ``num_frames`` frames.

    Each input's one unknown (time) axis is set to ``num_frames`` and its batch
    to 1, so ``[B, T, F]`` and ``[B, F, T]`` inputs are counted alike.
    """
    import tensorflow as tf

    def fixed(shape):
        dims = [int(d) if d is not None else None for d in shape[1:]]
        return (1, *(num_frames if d is None else d for d in dims))

    spec = [tf.TensorSpec(fixed(x.shape), tf.float32) for x in model.inputs]
    graph = (
        tf.function(lambda *xs: model(list(xs), training=False))
        .get_concrete_function(*spec)
        .graph
    )
    total = 0
    for op in graph.get_operations():
        if op.type == "Conv2D":
            kh, kw, cin, _ = _shape(op.inputs[1])
            total += int(np.prod(_shape(op.outputs[0]))) * kh * kw * cin
        elif op.type == "DepthwiseConv2dNative":
            kh, kw, _, _ = _shape(op.inputs[1])
            total += int(np.prod(_shape(op.outputs[0]))) * kh * kw
        elif op.type in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
            a = _shape(op.inputs[0])
            adj = op.get_attr("adj_x") if op.type != "MatMul" else op.get_attr("transpose_a")
            inner = a[-2] if adj else a[-1]
            total += int(np.prod(_shape(op.outputs[0]))) * inner
        elif op.type == "Einsum":
            total += _einsum_macs(op.get_attr("equation").decode(), op.inputs)
    return total


def macs_per_second(model, sampling_rate: int = 16000, hop_length: int = 100) -> float:
    """MACs per second of audio, from a pass over 4 s (cost is linear in length)."""
    seconds = 4
    frames = 1 + seconds * sampling_rate // hop_length  # 641 -> round up to a multiple of 4
    frames = int(np.ceil(frames / 4) * 4)
    return count_macs(model, frames) * (sampling_rate / hop_length) / frames
