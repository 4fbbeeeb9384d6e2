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


def _pair_swap(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Index and sign vectors with ``x[..., idx] * sign`` = each pair (x0, x1) -> (-x1, x0).

    A gather keeps the graph 4-D (no 6-D reshape) and costs no multiplies.
    """
    idx = np.arange(channels).reshape(-1, 2)[:, ::-1].reshape(-1)
    sign = np.tile(np.array([-1.0, 1.0], np.float32), channels // 2)
    return idx.astype(np.int32), sign


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
        self._swap, self._swap_sign = _pair_swap(self.dim)
        self._angles = rope_angles(HEAD_DIM)

    def build(self, input_shape):
        if input_shape[-1] != self.dim:
            raise ValueError(
                f"Expected {self.dim} input channels. Received: input_shape={input_shape}"
            )
        self.qkvo.build(input_shape)
        self.lepe.build(tuple(input_shape[:-1]) + (self.dim,))
        self.proj.build(tuple(input_shape[:-1]) + (self.dim,))

    def _rope_tables(self, t, f):
        """sin/cos tables ``[T, F, C]``: same for every head.

        The returned sin carries the pair-rotation sign, so RoPE is
        ``x * cos + x[..., swap] * sin``.
        """
        half = HEAD_DIM // 2
        ang = ops.cast(self._angles[:half], self.compute_dtype)
        pos_t = ops.cast(ops.arange(t), self.compute_dtype)[:, None] * ang[None, :]  # [T, 4]
        pos_f = ops.cast(ops.arange(f), self.compute_dtype)[:, None] * ang[None, :]  # [F, 4]
        phase_t = ops.broadcast_to(pos_t[:, None, :], (t, f, half))
        phase_f = ops.broadcast_to(pos_f[None, :, :], (t, f, half))
        phase = ops.concatenate([phase_t, phase_f], axis=-1)  # [T, F, 8]
        phase = ops.tile(phase, (1, 1, self._heads))  # [T, F, C]
        return ops.sin(phase) * ops.cast(self._swap_sign, self.compute_dtype), ops.cos(phase)

    def call(self, x):
        c, heads, d = self.dim, self._heads, HEAD_DIM
        shape = ops.shape(x)
        b, t = shape[0], shape[1]
        # Static F when known (leaner TFLite graph); Keras' predict may relax it.
        f = x.shape[2] if x.shape[2] is not None else shape[2]

        qkvo = self.qkvo(x)
        q, k, v, o = (qkvo[..., i * c : (i + 1) * c] for i in range(4))
        q = ops.elu(q) + 1.0
        k = ops.elu(k) + 1.0

        def split_heads(z):  # [B, T, F, C] -> [B, T, F, heads, d]
            return ops.reshape(z, (b, t, f, heads, d))

        k_mean = ops.mean(split_heads(k), axis=(1, 2), keepdims=True)  # [B,1,1,h,d]
        gamma = ops.sum(split_heads(q) * k_mean, axis=-1, keepdims=True) * self._scale  # [B,T,F,h,1]

        sin, cos = self._rope_tables(t, f)
        q = q * cos + ops.take(q, self._swap, axis=-1) * sin
        k = k * cos + ops.take(k, self._swap, axis=-1) * sin

        n_tokens = ops.cast(t * f, self.compute_dtype)
        qh, kh, vh = split_heads(q), split_heads(k), split_heads(v)
        kv = ops.einsum("btfhd,btfhe->bhde", kh, vh) * (self._scale / n_tokens)  # [B,h,d,d]
        v_mean = ops.mean(vh, axis=(1, 2), keepdims=True)  # [B,1,1,h,d]
        y = ops.einsum("btfhd,bhde->btfhe", qh, kv) * (1.0 + 1.0 / (gamma + 1e-6)) - gamma * v_mean
        y = ops.reshape(y, (b, t, f, c))
        return self.proj((y + self.lepe(v)) * o)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"dim": self.dim})
        return config
