"""Custom layers: the shared harness for every layer, then numpy references from SPEC §2.

References are written from the spec, not from the layers: where a test borrows a
layer's own convolution sublayers (``qkvo``, ``lepe``, ``proj``, ...) it is only to
get the same weights applied the same way; the arithmetic under test (attention,
RoPE, concatenation order, normalisation, gating) is re-done in float64 numpy.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np
import pytest
import scipy.special
import tensorflow as tf

import imse_keras.layers as L
from imse_keras.discriminator import ScalarLearnableSigmoid
from layer_harness import run_layer_test


def _np(t) -> np.ndarray:
    return keras.ops.convert_to_numpy(t)


def _rand(shape, seed=0, scale=1.0, loc=0.0) -> np.ndarray:
    return (loc + scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def _built(layer, shape):
    layer.build(shape)
    return layer


def _perturb(layer, seed, scale=0.1):
    """Move every weight off its initialiser (zero biases, unit scales)."""
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [w + rng.normal(0, scale, w.shape).astype(w.dtype) for w in layer.get_weights()]
    )


# --- 1. Shared harness over every public layer --------------------------------------


@dataclasses.dataclass(frozen=True)
class LayerCase:
    layer_cls: type
    init_kwargs: dict[str, Any]
    input_shape: Any  # a tuple, or a list of tuples for list-input layers
    expected_output_shape: tuple
    dynamic_axes: tuple = (0, 1)
    bad_kwargs: tuple = ()

    @property
    def id(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.init_kwargs.items())
        return f"{self.layer_cls.__name__}({extra})"


LAYER_CASES = [
    LayerCase(L.Atan2, {}, [(2, 5, 7, 1), (2, 5, 7, 1)], (2, 5, 7, 1)),
    LayerCase(
        L.BiasFreeLayerNorm, {}, (2, 5, 7, 16), (2, 5, 7, 16), bad_kwargs=({"epsilon": 0.0},)
    ),
    LayerCase(
        L.DenseBlock,
        {"channels": 8, "depth": 3},
        (2, 10, 6, 8),
        (2, 10, 6, 8),
        bad_kwargs=({"channels": 0}, {"depth": 0}),
    ),
    LayerCase(
        L.GatedDConvFFN,
        {"dim": 16},
        (2, 5, 7, 16),
        (2, 5, 7, 16),
        bad_kwargs=({"dim": 0}, {"expansion": -1.0}),
    ),
    LayerCase(
        L.IDConv,
        {"dim": 16},
        (2, 6, 13, 16),
        (2, 6, 13, 16),
        bad_kwargs=({"dim": 4}, {"square_kernel": 4}, {"band_kernel": 10}, {"branch_ratio": 0.5}),
    ),
    LayerCase(L.IDConv, {"dim": 16, "pointwise": False}, (2, 6, 13, 16), (2, 6, 13, 16)),
    LayerCase(L.InstanceNorm, {}, (2, 5, 7, 3), (2, 5, 7, 3), bad_kwargs=({"epsilon": -1.0},)),
    LayerCase(
        L.LearnableSigmoid,
        {"num_freqs": 7, "beta": 2.0},
        (2, 5, 7, 1),
        (2, 5, 7, 1),
        bad_kwargs=({"num_freqs": 0}, {"beta": 0.0}),
    ),
    LayerCase(
        L.MagnitudeAwareLinearAttention,
        {"dim": 16},
        (2, 4, 6, 16),
        (2, 4, 6, 16),
        bad_kwargs=({"dim": 12}, {"dim": 0}),
    ),
    LayerCase(
        L.PixelShuffle,
        {"factor": 2},
        (2, 4, 6, 16),
        (2, 8, 12, 4),
        bad_kwargs=({"factor": 0}, {"factor": 1.5}),
    ),
    LayerCase(
        L.PixelUnshuffle,
        {"factor": 2},
        (2, 8, 12, 4),
        (2, 4, 6, 16),
        bad_kwargs=({"factor": 0}, {"factor": 2.5}),
    ),
    LayerCase(L.PolarToCartesian, {}, [(2, 7, 5), (2, 7, 5)], (2, 7, 5, 2), dynamic_axes=(0, 2)),
    LayerCase(
        L.SKFF,
        {"dim": 16},
        (2, 5, 7, 16),
        (2, 5, 7, 16),
        bad_kwargs=({"dim": 0}, {"reduction": 0}),
    ),
    LayerCase(
        L.SubPixelUpsample,
        {"filters": 4},
        (2, 4, 6, 8),
        (2, 4, 12, 4),
        bad_kwargs=({"filters": 0}, {"filters": 1.5}),
    ),
    LayerCase(
        L.TransformerBlock, {"dim": 16}, (2, 4, 6, 16), (2, 4, 6, 16), bad_kwargs=({"dim": 12},)
    ),
    # The discriminator's head: [B, N] with one slope per feature, so only the batch
    # axis is dynamic.
    LayerCase(
        ScalarLearnableSigmoid,
        {"beta": 1.5},
        (2, 3),
        (2, 3),
        dynamic_axes=(0,),
        bad_kwargs=({"beta": 0.0}, {"beta": -1.0}),
    ),
]


def test_harness_covers_every_public_layer():
    tested = {case.layer_cls for case in LAYER_CASES}
    for name in L.__all__:
        assert issubclass(getattr(L, name), keras.layers.Layer)
    # Every layer the package registers for .keras files (imse_keras.layers and
    # the discriminator's head alike), not only the ones in imse_keras.layers.
    registered = {
        obj
        for key, obj in keras.saving.get_custom_objects().items()
        if key.startswith("imse_keras>") and isinstance(obj, type)
        and issubclass(obj, keras.layers.Layer) and not issubclass(obj, keras.Model)
    }
    assert {getattr(L, name) for name in L.__all__} <= registered
    assert ScalarLearnableSigmoid in registered
    missing = sorted(c.__name__ for c in registered - tested)
    assert not missing, f"layers without a run_layer_test case: {missing}"


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.id)
def test_layer_harness(case, tmp_path):
    run_layer_test(
        case.layer_cls,
        case.init_kwargs,
        case.input_shape,
        case.expected_output_shape,
        tmp_path=tmp_path,
        dynamic_axes=case.dynamic_axes,
        bad_kwargs=case.bad_kwargs,
    )


@pytest.mark.parametrize(
    "make_layer, shape",
    [
        (L.InstanceNorm, (2, 5, 3)),  # needs [B, T, F, C]
        (lambda: L.DenseBlock(8), (1, 4, 5, 6)),  # needs `channels` input channels
        (lambda: L.MagnitudeAwareLinearAttention(16), (1, 4, 5, 8)),
        (lambda: L.LearnableSigmoid(7), (1, 4, 6, 1)),  # F on axis 2 must match
    ],
    ids=["InstanceNorm-rank", "DenseBlock-channels", "MALA-channels", "LearnableSigmoid-F"],
)
def test_build_rejects_wrong_input_shape(make_layer, shape):
    with pytest.raises(ValueError, match="Received"):
        make_layer().build(shape)


# --- 2. PixelShuffle / PixelUnshuffle -------------------------------------------------


def _np_pixel_shuffle(x, r):
    """torch order, channels-last: out[h*r+i, w*r+j, c] = in[h, w, c*r*r + i*r + j]."""
    b, h, w, crr = x.shape
    c = crr // (r * r)
    out = np.empty((b, h * r, w * r, c), x.dtype)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[:, i::r, j::r, ch] = x[..., ch * r * r + i * r + j]
    return out


def _np_pixel_unshuffle(x, r):
    b, hr, wr, c = x.shape
    out = np.empty((b, hr // r, wr // r, c * r * r), x.dtype)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[..., ch * r * r + i * r + j] = x[:, i::r, j::r, ch]
    return out


@pytest.mark.parametrize("r, c", [(2, 3), (2, 16), (3, 2)])
def test_pixel_shuffle_matches_torch_order(r, c):
    x = _rand((2, 3, 5, c * r * r), seed=r * 10 + c)
    y = _np(L.PixelShuffle(r)(x))
    np.testing.assert_array_equal(y, _np_pixel_shuffle(x, r))
    # TF's depth_to_space uses the other channel order: the test can tell them apart.
    assert not np.array_equal(y, tf.nn.depth_to_space(x, r).numpy())


@pytest.mark.parametrize("r, c", [(2, 3), (2, 16), (3, 2)])
def test_pixel_unshuffle_matches_torch_order_and_inverts_shuffle(r, c):
    x = _rand((2, 3 * r, 5 * r, c), seed=r * 10 + c)
    y = _np(L.PixelUnshuffle(r)(x))
    np.testing.assert_array_equal(y, _np_pixel_unshuffle(x, r))
    np.testing.assert_array_equal(_np(L.PixelShuffle(r)(y)), x)
    z = _rand((2, 3, 5, c * r * r), seed=1)
    np.testing.assert_array_equal(_np(L.PixelUnshuffle(r)(L.PixelShuffle(r)(z))), z)


def test_pixel_shuffle_and_unshuffle_with_dynamic_time_axis():
    inp = keras.Input((None, 6, 16))
    shuffle = keras.Model(inp, L.PixelShuffle(2)(inp))
    inp2 = keras.Input((None, 12, 4))
    unshuffle = keras.Model(inp2, L.PixelUnshuffle(2)(inp2))
    assert shuffle.output.shape == (None, None, 12, 4)
    assert unshuffle.output.shape == (None, None, 6, 16)
    for t, b in [(1, 1), (3, 2), (7, 3)]:
        x = _rand((b, t, 6, 16), seed=t)
        y = _np(shuffle(x))
        np.testing.assert_array_equal(y, _np_pixel_shuffle(x, 2))
        np.testing.assert_array_equal(_np(unshuffle(y)), x)


# --- 3. Normalisations ----------------------------------------------------------------


def test_instance_norm_matches_numpy():
    rng = np.random.default_rng(0)
    # Different offset and spread per sample and channel.
    scale, offset = rng.uniform(0.5, 4, (3, 1, 1, 4)), rng.normal(0, 3, (3, 1, 1, 4))
    x = (rng.normal(size=(3, 6, 9, 4)) * scale + offset).astype(np.float32)
    layer = _built(L.InstanceNorm(), x.shape)
    gamma, beta = rng.normal(size=4).astype(np.float32), rng.normal(size=4).astype(np.float32)
    layer.set_weights([gamma, beta])
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(1, 2), keepdims=True)
    var = x64.var(axis=(1, 2), keepdims=True)  # biased
    expected = (x64 - mean) / np.sqrt(var + 1e-5) * gamma + beta
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-5, atol=1e-5)


def test_instance_norm_uses_eps_1e5_on_tiny_variance():
    x = _rand((1, 4, 5, 2), seed=3, scale=1e-3)
    layer = _built(L.InstanceNorm(), x.shape)
    x64 = x.astype(np.float64)
    mean, var = x64.mean((1, 2), keepdims=True), x64.var((1, 2), keepdims=True)
    expected = (x64 - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-4, atol=1e-6)


def test_bias_free_layer_norm_matches_numpy_and_keeps_the_mean():
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(2, 3, 5, 16)) * 2.0 + 3.0).astype(np.float32)  # mean far from 0
    layer = _built(L.BiasFreeLayerNorm(), x.shape)
    w = rng.normal(size=16).astype(np.float32)
    layer.set_weights([w])
    x64 = x.astype(np.float64)
    expected = x64 / np.sqrt(x64.var(axis=-1, keepdims=True) + 1e-5) * w
    y = _np(layer(x))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    mean, var = x64.mean(-1, keepdims=True), x64.var(-1, keepdims=True)
    subtracted = (x64 - mean) / np.sqrt(var + 1e-5) * w
    assert np.abs(y - subtracted).max() > 0.5
    assert len(layer.weights) == 1  # no bias


# --- 4. MALA --------------------------------------------------------------------------


def _np_mala_attention(q, k, v, heads):
    """SPEC §2.6 for one sample, naive per head. q, k, v: [T, F, C] -> y [T, F, C]."""
    t_len, f_len, c = q.shape
    d = c // heads
    n = t_len * f_len
    s = d**-0.5
    angle = np.array([1.0, 1.0, 1e-4, 1e-4])
    phi = lambda z: np.where(z > 0, z + 1.0, np.exp(z))  # elu(z) + 1
    # Row-major (t, f) tokens and their positions.
    t_pos = np.repeat(np.arange(t_len), f_len)
    f_pos = np.tile(np.arange(f_len), t_len)

    def rope(z):  # z: [N, d]
        out = np.empty_like(z)
        for tok in range(n):
            for m in range(0, d, 2):
                pos = t_pos[tok] if m < d // 2 else f_pos[tok]
                theta = pos * angle[m % (d // 2)]
                x0, x1 = z[tok, m], z[tok, m + 1]
                # x*cos + rotate(x)*sin with rotate(x0, x1) = (-x1, x0)
                out[tok, m] = x0 * math.cos(theta) - x1 * math.sin(theta)
                out[tok, m + 1] = x1 * math.cos(theta) + x0 * math.sin(theta)
        return out

    y = np.empty((n, c))
    for h in range(heads):
        sl = slice(h * d, (h + 1) * d)
        qh = phi(q[..., sl].reshape(n, d))
        kh = phi(k[..., sl].reshape(n, d))
        vh = v[..., sl].reshape(n, d)
        gamma = s * qh @ kh.mean(axis=0)  # [N], before RoPE
        qr, kr = rope(qh), rope(kh)
        kv = (s / n) * sum(np.outer(kr[j], vh[j]) for j in range(n))  # [d, d]
        for i in range(n):
            y[i, sl] = (1 + 1 / (gamma[i] + 1e-6)) * (qr[i] @ kv) - gamma[i] * vh.mean(axis=0)
    return y.reshape(t_len, f_len, c)


def test_mala_matches_naive_numpy_reference():
    b, t_len, f_len, c = 2, 5, 6, 16  # T != F so swapped axes would show
    layer = L.MagnitudeAwareLinearAttention(c)
    x = _rand((b, t_len, f_len, c), seed=7)
    layer(x)
    _perturb(layer, seed=8, scale=0.2)  # random biases too (initialised to zero)

    qkvo = _np(layer.qkvo(x)).astype(np.float64)  # [B, T, F, 4C]: q | k | v | o
    q, k, v, o = (qkvo[..., i * c : (i + 1) * c] for i in range(4))
    lepe = _np(layer.lepe(v.astype(np.float32))).astype(np.float64)
    y = np.stack([_np_mala_attention(q[i], k[i], v[i], heads=c // 8) for i in range(b)])
    expected = _np(layer.proj(((y + lepe) * o).astype(np.float32)))

    out = _np(layer(x))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    # Batch items are independent: each alone gives the same answer.
    np.testing.assert_allclose(_np(layer(x[1:])), out[1:], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make, shape, dynamic",
    [
        (lambda: L.MagnitudeAwareLinearAttention(16), (2, 12, 10, 16), (None, None, 10, 16)),
        (lambda: L.IDConv(16), (2, 12, 14, 16), (None, None, None, 16)),
        (lambda: L.IDConv(16), (2, 12, 14, 16), (None, None, 14, 16)),
        (lambda: L.IDConv(48), (1, 7, 32, 48), (None, None, None, 48)),
    ],
)
def test_static_and_dynamic_shapes_are_one_function(make, shape, dynamic):
    """With static T (and F) these layers run a leaner arrangement of the same
    math (export graphs: MALA's time RoPE on per-frame matrices, IDConv's band
    convs on wide lanes); traced with unknown sizes they run the general one.
    Both must agree."""
    layer = make()
    x = _rand(shape, seed=3)
    layer(x)
    _perturb(layer, seed=4, scale=0.2)
    static = _np(layer(x))
    traced = tf.function(lambda z: layer(z), input_signature=[tf.TensorSpec(dynamic, tf.float32)])
    np.testing.assert_allclose(_np(traced(x)), static, rtol=1e-5, atol=1e-5 * np.abs(static).max())


def test_mala_reference_depends_on_which_axis_is_time():
    """Sanity check of the reference itself: with angle 1 rad per step, transposing
    (T, F) changes the result, so the comparison above pins RoPE's axis order."""
    q, k, v = (_rand((4, 5, 16), seed=s).astype(np.float64) for s in (3, 4, 5))
    y = _np_mala_attention(q, k, v, heads=2)
    swap = lambda z: z.transpose(1, 0, 2)
    y_swapped = swap(_np_mala_attention(swap(q), swap(k), swap(v), heads=2))
    assert np.abs(y - y_swapped).max() > 1e-2


@pytest.mark.parametrize("c, expected", [(16, 1776), (32, 6112), (48, 13008)])
def test_mala_parameter_count(c, expected):
    layer = _built(L.MagnitudeAwareLinearAttention(c), (1, 4, 8, c))
    assert layer.count_params() == expected
    assert tuple(layer.qkvo.kernel.shape) == (1, 1, c, 4 * c)
    assert tuple(layer.lepe.kernel.shape) == (5, 5, c, 1)


# --- 5. IDConv ------------------------------------------------------------------------


def _shift(x, dt, df):
    """``out[t, f] = x[t + dt, f + df]``, zero outside."""
    out = np.zeros_like(x)
    t_len, f_len = x.shape[1:3]
    ts, fs = slice(max(0, -dt), min(t_len, t_len - dt)), slice(max(0, -df), min(f_len, f_len - df))
    td, fd = slice(max(0, dt), min(t_len, t_len + dt)), slice(max(0, df), min(f_len, f_len + df))
    out[:, ts, fs] = x[:, td, fd]
    return out


@pytest.mark.parametrize("c", [16, 32, 48])
@pytest.mark.parametrize("pointwise", [True, False])
def test_idconv_branch_split_order_and_orientation(c, pointwise):
    g = c // 8
    n_id = c - 3 * g
    x = _rand((2, 13, 14, c), seed=c)
    layer = _built(L.IDConv(c, pointwise=pointwise), x.shape)
    # Each depthwise kernel becomes a shift by one step in a direction only that
    # branch can produce, times a per-channel gain, plus a per-branch bias.
    gains = np.arange(1, g + 1, dtype=np.float32)
    hw = np.zeros((3, 3, g, 1), np.float32)
    hw[0, 2, :, 0] = gains  # out[t, f] = x[t - 1, f + 1]
    w = np.zeros((1, 11, g, 1), np.float32)
    w[0, 6, :, 0] = gains  # out[t, f] = x[t, f + 1]    (band along F)
    h = np.zeros((11, 1, g, 1), np.float32)
    h[4, 0, :, 0] = gains  # out[t, f] = x[t - 1, f]    (band along T)
    layer.dwconv_hw.set_weights([hw, np.full(g, 0.1, np.float32)])
    layer.dwconv_w.set_weights([w, np.full(g, 0.2, np.float32)])
    layer.dwconv_h.set_weights([h, np.full(g, 0.3, np.float32)])

    z = x.astype(np.float64)
    if pointwise:
        z = z @ layer.pwconv.get_weights()[0][0, 0].astype(np.float64)
    else:
        assert layer.pwconv is None
    bounds = [0, n_id, n_id + g, n_id + 2 * g, c]
    parts = [z[..., lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
    assert [p.shape[-1] for p in parts] == [c - 3 * g, g, g, g]
    expected = np.concatenate(
        [
            parts[0],
            _shift(parts[1], -1, 1) * gains + 0.1,
            _shift(parts[2], 0, 1) * gains + 0.2,
            _shift(parts[3], -1, 0) * gains + 0.3,
        ],
        axis=-1,
    )
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("c, expected", [(16, 324), (32, 1160), (48, 2508)])
def test_idconv_parameter_count(c, expected):
    with_pw = _built(L.IDConv(c), (1, 4, 16, c)).count_params()
    without = _built(L.IDConv(c, pointwise=False), (1, 4, 16, c)).count_params()
    assert with_pw == expected
    assert with_pw - without == c * c


# --- 6. SKFF --------------------------------------------------------------------------


@pytest.mark.parametrize("c, expected", [(16, 129), (32, 257), (48, 577)])
def test_skff_is_identity_with_parameters(c, expected):
    x = _rand((2, 4, 6, c), seed=c, scale=3.0)
    layer = _built(L.SKFF(c), x.shape)
    assert layer.count_params() == expected
    assert tuple(layer.conv_du.kernel.shape) == (1, 1, c, max(c // 8, 4))
    rng = np.random.default_rng(0)
    layer.set_weights([rng.normal(0, 2.0, w.shape).astype(np.float32) for w in layer.get_weights()])
    np.testing.assert_array_equal(_np(layer(x)), x)
    # What the official module multiplies by, from these weights: exactly 1, so
    # returning the input is the same function; and no gradient reaches them.
    np.testing.assert_array_equal(_np(layer.path_weights(x)), np.ones((2, 1, 1, c), np.float32))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3


# --- 7. FFN and transformer block ---------------------------------------------------


@pytest.mark.parametrize("c, hidden", [(16, 42), (32, 85), (48, 127)])
def test_gated_dconv_ffn_matches_numpy_with_exact_gelu(c, hidden):
    x = _rand((2, 4, 6, c), seed=c, scale=2.0)
    layer = _built(L.GatedDConvFFN(c), x.shape)
    assert tuple(layer.project_in.kernel.shape) == (1, 1, c, 2 * hidden)
    assert tuple(layer.project_out.kernel.shape) == (1, 1, hidden, c)
    assert not any(conv.use_bias for conv in (layer.project_in, layer.dwconv, layer.project_out))

    # Weights that put the gate inputs at |a| ~ 1..4, where erf and tanh GELU differ.
    rng = np.random.default_rng(c)
    dw = rng.normal(0, 0.1, (3, 3, 2 * hidden, 1))
    dw[1, 1] += 1.0
    layer.set_weights(
        [
            rng.normal(0, 1.0 / np.sqrt(c), (1, 1, c, 2 * hidden)).astype(np.float32),
            dw.astype(np.float32),
            rng.normal(0, 1.0 / np.sqrt(hidden), (1, 1, hidden, c)).astype(np.float32),
        ]
    )
    hid = _np(layer.dwconv(layer.project_in(x))).astype(np.float64)
    assert np.abs(hid).max() > 2.0
    a, b = hid[..., :hidden], hid[..., hidden:]
    gelu_erf = 0.5 * a * (1.0 + scipy.special.erf(a / np.sqrt(2.0)))
    gelu_tanh = 0.5 * a * (1.0 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)))
    expected = _np(layer.project_out((gelu_erf * b).astype(np.float32)))
    tanh_version = _np(layer.project_out((gelu_tanh * b).astype(np.float32)))
    y = _np(layer(x))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    assert np.abs(y - tanh_version).max() > 1e-4  # the approximate GELU would fail


@pytest.mark.parametrize("c, expected", [(16, 2772), (32, 9690), (48, 20574)])
def test_gated_dconv_ffn_parameter_count(c, expected):
    assert _built(L.GatedDConvFFN(c), (1, 4, 8, c)).count_params() == expected


@pytest.mark.parametrize("c, expected", [(16, 4580), (32, 15866), (48, 33678)])
def test_transformer_block_parameter_count(c, expected):
    block = _built(L.TransformerBlock(c), (1, 4, 8, c))
    assert block.count_params() == expected
    assert block.norm1.count_params() == block.norm2.count_params() == c


def test_transformer_block_is_two_pre_norm_residuals():
    c = 16
    x = _rand((1, 4, 6, c), seed=4)
    block = _built(L.TransformerBlock(c), x.shape)
    _perturb(block, seed=5)
    h = x + _np(block.mala(block.norm1(x)))
    expected = h + _np(block.ffn(block.norm2(h)))
    np.testing.assert_allclose(_np(block(x)), expected, rtol=1e-5, atol=1e-5)


# --- 8. DenseBlock --------------------------------------------------------------------


def _np_conv3x3(x, kernel, bias, dilation_t):
    """3x3 conv, dilation (d, 1), zero padding (d, 1): [B, T, F, Cin] -> [B, T, F, Cout]."""
    _, t_len, f_len, _ = x.shape
    xp = np.pad(x, ((0, 0), (dilation_t, dilation_t), (1, 1), (0, 0)))
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],))
    for a in range(3):
        for b in range(3):
            out += xp[:, a * dilation_t : a * dilation_t + t_len, b : b + f_len] @ kernel[a, b]
    return out + bias


def _np_dense_block(layer, x, newest_first=True):
    skip = x.astype(np.float64)
    for i in range(layer.depth):
        kernel, bias = (w.astype(np.float64) for w in layer.convs[i].get_weights())
        gamma, beta = layer.norms[i].get_weights()
        (alpha,) = layer.prelus[i].get_weights()
        y = _np_conv3x3(skip, kernel, bias, 2**i)
        y = (y - y.mean((1, 2), keepdims=True)) / np.sqrt(y.var((1, 2), keepdims=True) + 1e-5)
        y = y * gamma + beta
        y = np.where(y > 0, y, alpha * y)
        skip = np.concatenate([y, skip] if newest_first else [skip, y], axis=-1)
    return y


def test_dense_block_matches_numpy_newest_first_with_time_dilation():
    c, depth = 4, 3
    x = _rand((2, 12, 5, c), seed=11)
    layer = _built(L.DenseBlock(c, depth), x.shape)
    for i in range(depth):
        assert tuple(layer.convs[i].kernel.shape) == (3, 3, c * (i + 1), c)
        assert tuple(layer.convs[i].dilation_rate) == (2**i, 1)
    _perturb(layer, seed=12, scale=0.2)

    y = _np(layer(x))
    np.testing.assert_allclose(y, _np_dense_block(layer, x), rtol=1e-4, atol=1e-5)
    # The reference can tell the two concatenation orders apart.
    assert np.abs(y - _np_dense_block(layer, x, newest_first=False)).max() > 1e-2


# --- 9. Small ops ---------------------------------------------------------------------


@pytest.mark.parametrize("beta", [2.0, 1.5])
def test_learnable_sigmoid_matches_numpy(beta):
    x = _rand((2, 3, 7, 1), seed=0, scale=2.0)
    layer = _built(L.LearnableSigmoid(7, beta), x.shape)
    slope = np.random.default_rng(1).uniform(-2, 2, 7).astype(np.float32)
    layer.set_weights([slope])
    expected = beta / (1.0 + np.exp(-slope[None, None, :, None] * x.astype(np.float64)))
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-6, atol=1e-6)
    fresh = _built(L.LearnableSigmoid(7, beta), x.shape)
    np.testing.assert_array_equal(fresh.get_weights()[0], np.ones(7, np.float32))  # slope init 1


def test_scalar_learnable_sigmoid_matches_numpy():
    x = _rand((4, 3), seed=2, scale=2.0)
    layer = _built(ScalarLearnableSigmoid(1.5), x.shape)
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(3, np.float32))  # slope init 1
    slope = np.array([0.5, -1.0, 2.0], np.float32)
    layer.set_weights([slope])
    expected = 1.5 / (1.0 + np.exp(-slope[None, :] * x.astype(np.float64)))
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("c_in, filters", [(16, 16), (8, 3)])
def test_sub_pixel_upsample_is_the_official_conv_shuffle_and_stride(c_in, filters):
    """The official decoder's 1x1 conv to 4C, torch PixelShuffle(2) and time
    stride 2, in numpy, against the layer (which computes only the kept half)."""
    x = _rand((2, 6, 5, c_in), seed=filters, scale=2.0)
    layer = _built(L.SubPixelUpsample(filters), x.shape)
    kernel = _rand((1, 1, c_in, 4 * filters), seed=7)
    layer.set_weights([kernel])
    full = np.einsum("btfi,io->btfo", x.astype(np.float64), kernel[0, 0].astype(np.float64))
    b, t, f, _ = full.shape
    # torch order: channel c*4 + i*2 + j -> pixel (2t + i, 2f + j), channel c
    shuffled = full.reshape(b, t, f, filters, 2, 2).transpose(0, 1, 4, 2, 5, 3)
    shuffled = shuffled.reshape(b, 2 * t, 2 * f, filters)
    expected = shuffled[:, ::2]
    y = _np(layer(x))
    assert y.shape == (2, 6, 10, filters)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    # and the same dot products as Keras' own conv -> PixelShuffle -> x[:, ::2]
    conv = keras.layers.Conv2D(4 * filters, 1, use_bias=False)
    conv.build(x.shape)
    conv.set_weights([kernel])
    np.testing.assert_array_equal(y, _np(L.PixelShuffle(2)(conv(x)))[:, ::2])


def test_atan2_matches_numpy_argument_order_and_range():
    real = np.array([1.0, 0.0, -1.0, 0.0, -1.0, 3.0, -2.0], np.float32)
    imag = np.array([0.0, 1.0, 0.0, -1.0, -1e-30, -4.0, 5.0], np.float32)
    rng = np.random.default_rng(0)
    real = np.concatenate([real, rng.normal(size=50).astype(np.float32)]).reshape(1, -1, 1, 1)
    imag = np.concatenate([imag, rng.normal(size=50).astype(np.float32)]).reshape(1, -1, 1, 1)
    y = _np(L.Atan2()([real, imag]))
    np.testing.assert_allclose(y, np.arctan2(imag, real), atol=1e-6)
    np.testing.assert_allclose(y.ravel()[:4], [0.0, np.pi / 2, np.pi, -np.pi / 2], atol=1e-6)
    assert np.all(np.abs(y) <= np.pi + 1e-6)


def test_polar_to_cartesian_matches_numpy():
    rng = np.random.default_rng(0)
    mag = rng.uniform(0, 3, (2, 7, 5)).astype(np.float32)
    pha = rng.uniform(-np.pi, np.pi, (2, 7, 5)).astype(np.float32)
    y = _np(L.PolarToCartesian()([mag, pha]))
    expected = np.stack([mag * np.cos(pha), mag * np.sin(pha)], axis=-1)
    np.testing.assert_allclose(y, expected, atol=1e-6)
