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
        """cos/sin tables per axis, for the time and frequency channel halves.

        Returns:
            ``(cos_t, sin_t)`` ``[T, 1, C/2]`` and ``(cos_f, sin_f)``
            ``[1, F, C/2]`` (unsigned sin; the pair swap carries the sign).
        """
        ang = np.tile(self._angles[: HEAD_DIM // 2], self._heads)  # [C/2], (head, dim) order
        ang = ops.cast(ang, self.compute_dtype)
        pos_t = ops.cast(ops.arange(t), self.compute_dtype)[:, None] * ang[None, :]  # [T, C/2]
        pos_f = ops.cast(ops.arange(f), self.compute_dtype)[:, None] * ang[None, :]  # [F, C/2]
        return (
            (ops.cos(pos_t)[:, None, :], ops.sin(pos_t)[:, None, :]),
            (ops.cos(pos_f)[None, :, :], ops.sin(pos_f)[None, :, :]),
        )

    def _conv(self, x, columns):
        """The qkvo conv restricted to some output channels (a 1x1 conv of its own)."""
        with keras.name_scope("qkvo"):  # op names the int8 export policy selects by
            kernel = ops.take(self.qkvo.kernel, columns, axis=3)
            return ops.conv(x, kernel, padding="valid") + ops.take(self.qkvo.bias, columns, axis=0)

    def call(self, x):
        # Written for a lean TFLite graph, every tensor stays [B, T, F, channels]:
        # q and k are computed in two halves (the dims rotating with time and
        # with frequency, so each half's RoPE table is per axis and tiny), the
        # pair swap is a constant 1x1 conv, and the per-head products are
        # block-diagonal matmuls (no 5-D head split, no transposes).
        c = self.dim
        shape = ops.shape(x)
        b, t = shape[0], shape[1]
        # Static F when known (leaner TFLite graph); Keras' predict may relax it.
        f = x.shape[2] if x.shape[2] is not None else shape[2]
        dt = self.compute_dtype
        s = self._scale
        t_idx, f_idx = self._time_idx, self._freq_idx

        def phi(z):
            return ops.elu(z) + 1.0

        q_t, q_f = phi(self._conv(x, t_idx)), phi(self._conv(x, f_idx))  # [B, T, F, C/2]
        k_t, k_f = phi(self._conv(x, c + t_idx)), phi(self._conv(x, c + f_idx))
        v = self._conv(x, np.arange(2 * c, 3 * c, dtype=np.int32))  # [B, T, F, C]
        o = self._conv(x, np.arange(3 * c, 4 * c, dtype=np.int32))

        # gamma = s * phi(q) . mean phi(k), per head, before RoPE: [B, T, F, h].
        heads_half = ops.cast(self._heads_half, dt)[None, None]  # [1, 1, C/2, h]

        def head_dot(z, z_mean):  # [B,T,F,C/2] . [B,1,1,C/2] per head -> [B,T,F,h]
            return ops.matmul(z, ops.reshape(z_mean, (b, 1, -1, 1)) * heads_half)

        km_t = ops.mean(k_t, axis=(1, 2), keepdims=True) * s
        km_f = ops.mean(k_f, axis=(1, 2), keepdims=True) * s
        gamma = head_dot(q_t, km_t) + head_dot(q_f, km_f)

        (cos_t, sin_t), (cos_f, sin_f) = self._rope_tables(t, f)
        swap = ops.cast(self._swap_half, dt)

        def rope(z, cos, sin):  # z * cos + swap(z) * sin
            return z * cos + ops.conv(z, swap, padding="valid") * sin

        q_t, q_f = rope(q_t, cos_t, sin_t), rope(q_f, cos_f, sin_f)
        k_t, k_f = rope(k_t, cos_t, sin_t), rope(k_f, cos_f, sin_f)

        # KV = (s / N) * sum_j k_j^T v_j per head: block-diagonal [B, C/2, C] per half.
        n_tokens = ops.cast(t * f, dt)
        v_tok = ops.reshape(v, (b, -1, c))  # [B, N, C]

        def kv(z, same_head):
            z_tok = ops.reshape(z, (b, -1, c // 2))
            full = ops.matmul(ops.transpose(z_tok, (0, 2, 1)), v_tok)  # [B, C/2, C]
            return ops.reshape(full * ops.cast(same_head, dt) * (s / n_tokens), (b, 1, c // 2, c))

        y = ops.matmul(q_t, kv(k_t, self._same_head_t)) + ops.matmul(q_f, kv(k_f, self._same_head_f))
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
