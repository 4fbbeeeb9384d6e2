"""Generator losses against numpy references of the official PyTorch code; the discriminator."""

from __future__ import annotations

import numpy as np
import pytest

from imse_keras import losses


def _official_matrix(n: int) -> np.ndarray:
    # torch.triu(ones, 1) - torch.triu(ones, 2) - torch.eye(n): +1 superdiagonal, -1 diagonal.
    ones = np.ones((n, n))
    return np.triu(ones, 1) - np.triu(ones, 2) - np.eye(n)


def _aw(x):
    return np.abs(x - np.round(x / (2 * np.pi)) * 2 * np.pi)


def _official_phase_losses(pr, pg):
    """The official code's losses, on ``[B, T, F]`` phases (ours), which it holds
    as ``[B, F, T]``: transposed here, at the boundary."""
    pr, pg = pr.swapaxes(1, 2), pg.swapaxes(1, 2)
    f, t = pr.shape[1], pr.shape[2]
    gd_m, iaf_m = _official_matrix(f), _official_matrix(t)
    gd_r, gd_g = pr.transpose(0, 2, 1) @ gd_m, pg.transpose(0, 2, 1) @ gd_m
    iaf_r, iaf_g = pr @ iaf_m, pg @ iaf_m
    return _aw(pr - pg).mean(), _aw(gd_r - gd_g).mean(), _aw(iaf_r - iaf_g).mean()


@pytest.fixture
def phases():
    rng = np.random.default_rng(0)
    shape = (2, 12, 16)  # [B, T, F]
    return (rng.uniform(-np.pi, np.pi, shape).astype("float32"),
            rng.uniform(-np.pi, np.pi, shape).astype("float32"))


def test_anti_wrapping_matches_numpy():
    x = np.linspace(-20, 20, 401).astype("float32")
    np.testing.assert_allclose(np.asarray(losses.anti_wrapping(x)), _aw(x), atol=1e-5)
    assert float(np.max(np.asarray(losses.anti_wrapping(x)))) <= np.pi + 1e-5


@pytest.mark.parametrize("axis", [1, 2])
def test_first_difference_is_the_official_matrix(phases, axis):
    x = phases[0].astype("float64")
    got = np.asarray(losses.first_difference(x, axis))
    if axis == 1:
        ref = (x.transpose(0, 2, 1) @ _official_matrix(x.shape[1])).transpose(0, 2, 1)
    else:
        ref = x @ _official_matrix(x.shape[2])
    np.testing.assert_allclose(got, ref, atol=1e-12)
    # The boundary: y[0] = -x[0], y[j] = x[j-1] - x[j].
    np.testing.assert_allclose(np.take(got, 0, axis), -np.take(x, 0, axis))


def test_phase_losses_match_official(phases):
    got = [float(v) for v in losses.phase_losses(*phases)]
    ref = _official_phase_losses(*(p.astype("float64") for p in phases))
    np.testing.assert_allclose(got, ref, rtol=1e-5)


def test_phase_losses_ignore_2pi_wraps(phases):
    pr, _ = phases
    got = [float(v) for v in losses.phase_losses(pr, pr + 2 * np.pi)]
    np.testing.assert_allclose(got, 0.0, atol=1e-5)


def test_generator_losses_weights():
    rng = np.random.default_rng(1)
    mag_t, mag_p = (rng.random((2, 8, 4)).astype("float32") for _ in range(2))
    pha_t, pha_p = (rng.uniform(-3, 3, (2, 8, 4)).astype("float32") for _ in range(2))
    com_t, com_p = (rng.standard_normal((2, 8, 4, 2)).astype("float32") for _ in range(2))
    out = {k: float(v) for k, v in losses.generator_losses(mag_t, pha_t, com_t, mag_p, pha_p, com_p).items()}
    np.testing.assert_allclose(out["mag"], np.mean((mag_t - mag_p) ** 2), rtol=1e-5)
    np.testing.assert_allclose(out["com"], 2 * np.mean((com_t - com_p) ** 2), rtol=1e-5)
    ip, gd, iaf = _official_phase_losses(pha_t.astype("float64"), pha_p.astype("float64"))
    expected = 0.9 * out["mag"] + 0.3 * (ip + gd + iaf) + 0.1 * out["com"]
    np.testing.assert_allclose(out["loss"], expected, rtol=1e-5)


def test_discriminator_shape_range_and_params():
    from imse_keras.discriminator import build_discriminator

    d = build_discriminator(256)
    # Official MP-SENet/IMSE discriminator: 181,650 trainable parameters; the
    # 305 others are spectral-norm power-iteration vectors.
    trainable = sum(int(np.prod(v.shape)) for v in d.trainable_weights)
    assert trainable == 181_650
    assert d.count_params() == 181_955
    rng = np.random.default_rng(0)
    x = rng.random((2, 64, 256)).astype("float32")  # [B, T, F]
    out = np.asarray(d([x, x], training=False))
    assert out.shape == (2, 1)
    assert np.all((out > 0) & (out < 1))
    with pytest.raises(ValueError, match="channels"):
        build_discriminator(256, channels=0)
