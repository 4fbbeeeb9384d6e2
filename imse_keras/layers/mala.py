"""Magnitude-aware linear attention (MALA) with 2-D rotary position embedding."""

from __future__ import annotations

import numpy as np
import keras
from keras import ops

__all__ = ["MagnitudeAwareLinearAttention", "rope_angles"]

HEAD_DIM = 8


def rope_angles(head_dim: int = HEAD_DIM) -> np.ndarray:
    """Per-dimension RoPE frequencies of one axis, ``[head_dim // 2]``.

    ``1 / 10000 ** linspace(0, 1, head_dim // 4)`` with each value repeated for
    its (even, odd) pair: ``[1, 1, 1e-4, 1e-4]`` for head_dim 8. The first half
    of a head's dimensions rotates with the time index, the second half with the
    frequency index.
    """
    base = 1.0 / (10000.0 ** np.linspace(0.0, 1.0, head_dim // 4))
    return np.repeat(base, 2).astype(np.float32)


def _pair_swap_matrix(channels: int) -> np.ndarray:
    """``[C, C]`` signed permutation P with ``(x @ P)`` = each pair (x0, x1) -> (-x1, x0).

    Applied as a 1x1 convolution: products by 0 and +-1 are exact, so this is
    the pair swap bit for bit, without a GATHER (which LiteRT does not delegate).
    """
    p = np.zeros((channels, channels), np.float32)
    for j in range(0, channels, 2):
        p[j + 1, j] = -1.0  # out[j] = -x[j + 1]
        p[j, j + 1] = 1.0  # out[j + 1] = x[j]
    return p


def _channel_groups(heads: int) -> tuple[np.ndarray, np.ndarray]:
    """Channel indices of q/k rotating with time (dims 0-3 of each head) and
    with frequency (dims 4-7), each in (head, dim) order."""
    half = HEAD_DIM // 2
    idx = np.arange(heads * HEAD_DIM).reshape(heads, 2, half)
    return idx[:, 0].reshape(-1).astype(np.int32), idx[:, 1].reshape(-1).astype(np.int32)


def _head_indicator(channels: int, heads: int) -> np.ndarray:
    """``[channels, heads]``: 1 where the channel belongs to the head (channels in
    (head, dim) order, ``channels // heads`` per head)."""
    per = channels // heads
    return (np.arange(channels)[:, None] // per == np.arange(heads)[None, :]).astype(np.float32)


@keras.saving.register_keras_serializable(package="imse_keras")
class MagnitudeAwareLinearAttention(keras.layers.Layer):
    """MALA (Fan et al., ICCV 2025) as used by IMSE, global over all T x F tokens.

    Per head (dimension d = 8, ``s = d**-0.5``, ``phi(x) = elu(x) + 1``, N = T*F):

    * ``gamma_i = s * phi(q_i) . mean_j phi(k_j)`` (before RoPE),
    * ``q, k <- RoPE(phi(q)), RoPE(phi(k))``,
    * ``KV = (s / N) * sum_j k_j^T v_j``,
    * ``y_i = (1 + 1 / (gamma_i + 1e-6)) * q_i KV - gamma_i * mean_j v_j``,

    then ``proj((y + lepe(v)) * o)`` where ``qkvo`` is one 1x1 conv (C -> 4C,
    channel order ``(q|k|v) x head x d`` then ``o``) and ``lepe`` a depthwise 5x5
    conv on v. Cost is linear in N.

    Args:
        dim: channels C; must be a multiple of 8 (C // 8 heads).

    Call arguments:
        x: ``[B, T, F, C]``.
        input_scale: optional ``[C]``; the layer then computes on
            ``x * input_scale``, folded into qkvo's kernel rows.

    Shape:
        ``[B, T, F, C]`` -> ``[B, T, F, C]``; T may be dynamic, F and C static.
    """

    def __init__(self, dim: int, **kwargs):
        if dim <= 0 or dim % HEAD_DIM:
            raise ValueError(f"dim must be a positive multiple of {HEAD_DIM}. Received: dim={dim}")
        super().__init__(**kwargs)
        self.dim = int(dim)
        self._heads = self.dim // HEAD_DIM
        self._scale = HEAD_DIM**-0.5
        self.qkvo = keras.layers.Conv2D(4 * dim, 1, use_bias=True, name="qkvo")
        self.lepe = keras.layers.DepthwiseConv2D(5, padding="same", use_bias=True, name="lepe")
        self.proj = keras.layers.Conv2D(dim, 1, use_bias=True, name="proj")
        self._angles = rope_angles(HEAD_DIM)
        half = self.dim // 2
        self._time_idx, self._freq_idx = _channel_groups(self._heads)
        self._swap_half = _pair_swap_matrix(half)[None, None]  # [1, 1, C/2, C/2]
        self._heads_half = _head_indicator(half, self._heads)  # [C/2, h]
        self._heads_full_t = _head_indicator(self.dim, self._heads).T  # [h, C]
        # Block-diagonal masks [C/2, C]: row channel (time or frequency half)
        # and column channel in the same head.
        head_of = np.arange(self.dim) // HEAD_DIM
        self._same_head_t = (head_of[self._time_idx][:, None] == head_of[None, :]).astype(np.float32)
        self._same_head_f = (head_of[self._freq_idx][:, None] == head_of[None, :]).astype(np.float32)

    def build(self, input_shape):
        if input_shape[-1] != self.dim:
            raise ValueError(
                f"Expected {self.dim} input channels. Received: input_shape={input_shape}"
            )
        self.qkvo.build(input_shape)
        self.lepe.build(tuple(input_shape[:-1]) + (self.dim,))
        self.proj.build(tuple(input_shape[:-1]) + (self.dim,))

    def _rope_tables(self, t, f):
        """cos/sin tables of the two channel halves (unsigned sin; the pair swap
        carries the sign).

        Returns:
            ``(cos_t, sin_t)`` ``[T, C/2, 1]``: per frame, one scale per row of a
            ``[C/2, C]`` matrix; ``(cos_f, sin_f)`` ``[1, F, C/2]``: per frequency
            bin, broadcast over the ``[B, T, F, C/2]`` frequency half.
        """
        ang = np.tile(self._angles[: HEAD_DIM // 2], self._heads)  # [C/2], (head, dim) order
        ang = ops.cast(ang, self.compute_dtype)
        pos_t = ops.cast(ops.arange(t), self.compute_dtype)[:, None] * ang[None, :]  # [T, C/2]
        pos_f = ops.cast(ops.arange(f), self.compute_dtype)[:, None] * ang[None, :]  # [F, C/2]
        return (
            (ops.cos(pos_t)[:, :, None], ops.sin(pos_t)[:, :, None]),
            (ops.cos(pos_f)[None, :, :], ops.sin(pos_f)[None, :, :]),
        )

    def _conv(self, x, columns, input_scale=None):
        """The qkvo conv restricted to some output channels (a 1x1 conv of its
        own), on ``x * input_scale`` (``[C]``, folded into the kernel's rows)."""
        with keras.name_scope("qkvo"):  # op names the int8 export policy selects by
            kernel = ops.take(self.qkvo.kernel, columns, axis=3)
            if input_scale is not None:
                kernel = kernel * ops.reshape(input_scale, (1, 1, -1, 1))
            return ops.conv(x, kernel, padding="valid") + ops.take(self.qkvo.bias, columns, axis=0)

    def call(self, x, input_scale=None):
        # Written for a lean TFLite graph, every per-token tensor stays
        # [B, T, F, channels]. q and k are computed in two halves: the dims
        # rotating with frequency and those rotating with time. The frequency
        # half gets RoPE per token (a per-bin table [1, F, C/2], the pair swap
        # as a constant 1x1 conv: exact). With a static T the time half never
        # does: its rotation moves onto per-frame [C/2, C] matrices (below).
        # The per-head products are block-diagonal matmuls (no 5-D head split).
        c, half = self.dim, self.dim // 2
        shape = ops.shape(x)
        b, t = shape[0], shape[1]
        # Static F when known (leaner TFLite graph); Keras' predict may relax it.
        f = x.shape[2] if x.shape[2] is not None else shape[2]
        dt = self.compute_dtype
        s = self._scale
        t_idx, f_idx = self._time_idx, self._freq_idx

        def phi(z):
            return ops.elu(z) + 1.0

        def conv(columns):
            return self._conv(x, columns, input_scale)

        q_t, q_f = phi(conv(t_idx)), phi(conv(f_idx))  # [B, T, F, C/2]
        k_t, k_f = phi(conv(c + t_idx)), phi(conv(c + f_idx))
        v = conv(np.arange(2 * c, 3 * c, dtype=np.int32))  # [B, T, F, C]
        o = conv(np.arange(3 * c, 4 * c, dtype=np.int32))

        # gamma = s * phi(q) . mean phi(k), per head, before RoPE: [B, T, F, h]
        # (the two halves share the (head, dim) channel order; a constant 1x1
        # conv sums each head's channels).
        km_t = ops.mean(k_t, axis=(1, 2), keepdims=True) * s  # [B, 1, 1, C/2]
        km_f = ops.mean(k_f, axis=(1, 2), keepdims=True) * s
        heads_half = ops.cast(self._heads_half, dt)[None, None]  # [1, 1, C/2, h]
        gamma = ops.conv(q_t * km_t + q_f * km_f, heads_half, padding="valid")

        (cos_t, sin_t), (cos_f, sin_f) = self._rope_tables(t, f)
        swap = ops.cast(self._swap_half, dt)  # [1, 1, C/2, C/2]: z @ P swaps pairs
        scale = s / ops.cast(t * f, dt)  # s / N

        def rope(z, cos, sin):  # z * cos + swap(z) * sin
            return z * cos + ops.conv(z, swap, padding="valid") * sin

        def kv(z, same_head):  # (s / N) sum_j z_j^T v_j per head: [B, 1, C/2, C]
            z_tok = ops.reshape(z, (b, -1, half))  # [B, N, C/2]
            full = ops.matmul(ops.transpose(z_tok, (0, 2, 1)), v_tok)
            return ops.reshape(full * ops.cast(same_head, dt) * scale, (b, 1, half, c))

        v_tok = ops.reshape(v, (b, -1, c))  # [B, N, C]
        # Frequency half: RoPE on q and k per token, one KV_f.
        q_f, k_f = rope(q_f, cos_f, sin_f), rope(k_f, cos_f, sin_f)
        y = ops.matmul(q_f, kv(k_f, self._same_head_f))  # [B, T, F, C]

        if x.shape[1] is None:
            # Dynamic T (Keras training and predict, dynamic-T exports): the
            # time half's RoPE per token too. (The folded form below was kept to
            # a static T after a dynamic-T .tflite of it gave wrong outputs
            # after a reshape; this form sometimes does too in LiteRT 2.3:
            # tests/test_export.py::test_dynamic_runner_matches_keras_after_reshapes.)
            cos_tt, sin_tt = ops.reshape(cos_t, (-1, 1, half)), ops.reshape(sin_t, (-1, 1, half))
            q_t, k_t = rope(q_t, cos_tt, sin_tt), rope(k_t, cos_tt, sin_tt)  # [T, 1, C/2] tables
            y = y + ops.matmul(q_t, kv(k_t, self._same_head_t))
        else:
            # Static T (export graphs): the time half's rotation depends on the
            # frame only, so it moves onto per-frame [C/2, C] matrices. With
            # RoPE(k) = k * cos + (k * sin) @ P (cos and sin are equal within a
            # pair): KV_t = sum_t cos_t S_t + P^T (sin_t S_t) with the per-frame
            # S_t = sum_f k^T v, and RoPE(q) KV_t = q M_t with
            # M_t = cos_t KV_t + sin_t (P KV_t).
            p = ops.cast(self._swap_half[0, 0], dt)  # [C/2, C/2]
            s_t = ops.matmul(ops.transpose(k_t, (0, 1, 3, 2)), v)  # [B, T, C/2, C]
            kv_t = ops.sum(s_t * cos_t, axis=1) + ops.matmul(
                ops.transpose(p)[None], ops.sum(s_t * sin_t, axis=1)
            )
            kv_t = kv_t * ops.cast(self._same_head_t, dt) * scale  # [B, C/2, C]
            m_t = (ops.expand_dims(kv_t, 1) * cos_t
                   + ops.expand_dims(ops.matmul(p[None], kv_t), 1) * sin_t)  # [B, T, C/2, C]
            y = y + ops.matmul(q_t, m_t)

        # Per head: y * (1 + 1 / (gamma + eps)) - gamma * mean(v), broadcast to
        # the head's channels by exact 0/1 matmuls.
        heads_full = ops.cast(self._heads_full_t, dt)[None, None]  # [1, 1, h, C]
        v_mean = ops.mean(v, axis=(1, 2), keepdims=True)  # [B, 1, 1, C]
        factor = ops.conv(1.0 + 1.0 / (gamma + 1e-6), heads_full, padding="valid")
        y = y * factor - ops.matmul(gamma, heads_full * v_mean)
        return self.proj((y + self.lepe(v)) * o)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"dim": self.dim})
        return config
