"""A transformer block re-expressed for a fixed-size TFLite graph.

Same weights (it calls the trained block's own sublayers) and the same float
result as :class:`imse_keras.layers.TransformerBlock`, with one change in how
MALA's rotary embedding is written. The trained layer builds sin/cos tables of
shape ``[T, F, C]`` from ``arange(T)`` and ``arange(F)``; with a fixed T the
converter folds them into constants of T*F*C values per table (8.5 MB of
float32 for the official model at T = 308). Here each table is the sum of a
time table ``[T, 1, 1, d]`` (zero on the frequency-rotating dimensions) and a
frequency table ``[1, F, 1, d]`` (zero on the time-rotating ones), applied per
head (every head uses the same angles), and the rotation
``x * cos + swap(x) * sin`` becomes four broadcast multiplies whose partial sums
add an exact zero: bit-identical in float, and F*heads resp. T*heads times
smaller than the trained layer's tables. q/k/v/o come from one SPLIT instead of
four strided slices (fewer ops and constants in the file).
"""

from __future__ import annotations

import numpy as np
import keras
from keras import ops

from imse_keras.layers import TransformerBlock
from imse_keras.layers.mala import HEAD_DIM, rope_angles

__all__ = ["ExportTransformerBlock", "separable_rope_tables"]


def separable_rope_tables(
    num_frames: int, num_freqs: int, channels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """RoPE tables of MALA split by axis.

    Returns:
        ``(cos_t, sin_t, cos_f, sin_f)``: float32, ``[T, 1, C]`` for the time
        tables and ``[1, F, C]`` for the frequency tables, with
        ``cos_t + cos_f`` (broadcast) equal to MALA's ``cos`` table and
        ``sin_t + sin_f`` to its signed ``sin`` table.
    """
    half = HEAD_DIM // 2
    ang = rope_angles(HEAD_DIM)[:half].astype(np.float32)
    sign = np.tile(np.array([-1.0, 1.0], np.float32), channels // 2)
    time_dims = np.tile(np.arange(HEAD_DIM) < half, channels // HEAD_DIM)  # [C]
    # Angle of every channel at every position, float32 as MALA computes it.
    ang_c = np.tile(np.concatenate([ang, ang]), channels // HEAD_DIM)  # [C]
    pos_t = np.arange(num_frames, dtype=np.float32)[:, None] * ang_c[None, :]  # [T, C]
    pos_f = np.arange(num_freqs, dtype=np.float32)[:, None] * ang_c[None, :]  # [F, C]
    cos_t = np.where(time_dims, np.cos(pos_t), 0.0).astype(np.float32)[:, None, :]
    sin_t = np.where(time_dims, np.sin(pos_t) * sign, 0.0).astype(np.float32)[:, None, :]
    cos_f = np.where(~time_dims, np.cos(pos_f), 0.0).astype(np.float32)[None, :, :]
    sin_f = np.where(~time_dims, np.sin(pos_f) * sign, 0.0).astype(np.float32)[None, :, :]
    return cos_t, sin_t, cos_f, sin_f


class ExportTransformerBlock(keras.layers.Layer):
    """``x += MALA(LN1(x)); x += FFN(LN2(x))`` with separable RoPE tables.

    Not serialisable: it exists only inside an export graph, wrapping a trained
    :class:`~imse_keras.layers.TransformerBlock` whose sublayers it calls.

    Args:
        block: the trained block.

    Shape:
        ``[B, T, F, C]`` -> ``[B, T, F, C]``; T and F must be static.
    """

    def __init__(self, block: TransformerBlock, **kwargs):
        if not isinstance(block, TransformerBlock):
            raise ValueError(f"Expected a TransformerBlock. Received: {type(block).__name__}")
        super().__init__(**kwargs)
        self.block = block

    def build(self, input_shape):
        if input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                f"ExportTransformerBlock needs static T and F. Received: input_shape={input_shape}"
            )
        # Per head: the tables of one head's d channels, [1, T, 1, 1, d] / [1, 1, F, 1, d].
        tables = separable_rope_tables(input_shape[1], input_shape[2], HEAD_DIM)
        self._tables = tuple(t[None, :, :, None, :] for t in tables)

    def _attention(self, x):
        mala = self.block.mala
        c, heads, d = mala.dim, mala._heads, HEAD_DIM
        b, t, f = x.shape[0], x.shape[1], x.shape[2]
        b = ops.shape(x)[0] if b is None else b
        scale = d**-0.5

        q, k, v, o = ops.split(mala.qkvo(x), 4, axis=-1)
        q = ops.elu(q) + 1.0
        k = ops.elu(k) + 1.0

        def split_heads(z):  # [B, T, F, C] -> [B, T, F, heads, d]
            return ops.reshape(z, (b, t, f, heads, d))

        qh, kh, vh = split_heads(q), split_heads(k), split_heads(v)
        k_mean = ops.mean(kh, axis=(1, 2), keepdims=True)
        gamma = ops.sum(qh * k_mean, axis=-1, keepdims=True) * scale

        cos_t, sin_t, cos_f, sin_f = self._tables
        swap = mala._swap[:d]  # the pair swap is the same within every head

        def rotate(z):  # [B, T, F, heads, d]
            zs = ops.take(z, swap, axis=-1)
            return z * cos_t + z * cos_f + zs * sin_t + zs * sin_f

        qh, kh = rotate(qh), rotate(kh)
        kv = ops.einsum("btfhd,btfhe->bhde", kh, vh) * (scale / float(t * f))
        v_mean = ops.mean(vh, axis=(1, 2), keepdims=True)
        y = ops.einsum("btfhd,bhde->btfhe", qh, kv) * (1.0 + 1.0 / (gamma + 1e-6)) - gamma * v_mean
        y = ops.reshape(y, (b, t, f, c))
        return mala.proj((y + mala.lepe(v)) * o)

    def call(self, x):
        x = x + self._attention(self.block.norm1(x))
        return x + self.block.ffn(self.block.norm2(x))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
