"""Parity with the official PyTorch IMSE (float32, CPU), from ../shared/parity.

Every tensor the fixtures record is compared. Where the comparison is
well-conditioned (features, mask, magnitude, waveform) the bound is 1e-4
absolute everywhere. The phase is ``atan2(i, r)`` of two small decoder maps,
so its error is the features' float32 rounding error divided by ``|(r, i)|``;
running our model in float64 shows the PyTorch float32 reference itself is
several 1e-4 rad from exact arithmetic at its worst bins
(``test_phase_reference_is_float32_limited``). For phase and the complex
output the bound is therefore 1e-4 on at least 99.8 % of bins, plus tight
magnitude-weighted and relative-L2 bounds that no real defect could pass.
"""

from __future__ import annotations

import numpy as np
import pytest

import keras

from imse_keras.config import get_config
from imse_keras.dsp.stft import mag_pha_istft
from imse_keras.model import build_model
from imse_keras.weights.convert import load_torch_weights

FIXTURES = ("imse_random_init", "imse_pretrained_3399")
INTERMEDIATES = {
    # our layer -> fixture key; ours [B, T, F, C], theirs [B, C, T, F]
    "dense_encoder_out": "io/dense_encoder_out",
    "mag_feat": "io/unet_mag_out",
    "pha_feat": "io/unet_pha_out",
    "mask": "io/mask_decoder_out",
}
ATOL = 1e-4
# Model I/O the fixtures record in torch's [B, F, T] (com [B, F, T, 2]); ours is
# frames-first [B, T, F]: they are transposed once, on loading.
_FT_KEYS = ("io/noisy_mag", "io/noisy_pha", "io/denoised_mag", "io/denoised_pha",
            "io/denoised_com")


def _load_fixture(path) -> dict:
    with np.load(path) as data:
        z = {k: data[k] for k in data.files}
    for key in _FT_KEYS:
        z[key] = np.swapaxes(z[key], 1, 2)
    return z


def _wrapped(a, b):
    d = np.abs(a - b)
    return np.minimum(d, 2 * np.pi - d)


@pytest.fixture(scope="module", params=FIXTURES)
def parity(request, shared_dir):
    z = _load_fixture(shared_dir / "parity" / f"{request.param}.npz")
    state = {k: v for k, v in z.items() if not k.startswith("io/")}
    cfg = get_config("imse")
    model = build_model(cfg)
    load_torch_weights(model, state, cfg)
    probe = keras.Model(
        model.inputs, [model.get_layer(n).output for n in INTERMEDIATES] + list(model.outputs)
    )
    outs = probe.predict([z["io/noisy_mag"], z["io/noisy_pha"]], verbose=0)
    got = dict(zip(INTERMEDIATES, outs[: len(INTERMEDIATES)]))
    got["mag"], got["pha"], got["com"] = outs[len(INTERMEDIATES) :]
    return request.param, z, got


def test_intermediates_within_1e4(parity):
    name, z, got = parity
    for ours, key in INTERMEDIATES.items():
        ref = z[key].transpose(0, 2, 3, 1)
        assert got[ours].shape == ref.shape, (name, ours)
        err = np.abs(got[ours] - ref).max()
        assert err <= ATOL, f"{name}: {ours} max abs error {err:.2e}"


def test_denoised_magnitude_within_1e4(parity):
    name, z, got = parity
    err = np.abs(got["mag"] - z["io/denoised_mag"]).max()
    assert err <= ATOL, f"{name}: denoised_mag max abs error {err:.2e}"


def test_waveform_within_1e4(parity):
    """Inverse STFT of our outputs vs the official waveform, same length."""
    name, z, got = parity
    ref = z["io/wav_out_normalized"][0]
    wav = mag_pha_istft(got["mag"][0].T, got["pha"][0].T, 510, 100, 0.3, length=ref.shape[-1])
    err = np.abs(wav - ref).max()
    assert err <= ATOL, f"{name}: waveform max abs error {err:.2e}"


def test_phase_and_complex_output(parity):
    name, z, got = parity
    mag = z["io/denoised_mag"]
    for ours, ref in (
        (got["pha"], z["io/denoised_pha"]),
        (got["pha"], z["io/phase_decoder_out"][:, 0]),  # the decoder's atan2, [B, T, F]
    ):
        err = _wrapped(ours, ref)
        assert np.mean(err <= ATOL) >= 0.998, f"{name}: {np.mean(err > ATOL):.4%} bins > 1e-4"
        assert err.max() < 1e-3, name
    err = _wrapped(got["pha"], z["io/denoised_pha"])
    assert (mag * err).sum() / mag.sum() < 1e-5, "magnitude-weighted phase error"
    com, ref = got["com"], z["io/denoised_com"]
    assert np.mean(np.abs(com - ref) <= ATOL) >= 0.998
    assert np.linalg.norm(com - ref) / np.linalg.norm(ref) < 2e-5


@pytest.mark.slow  # a float64 official-size model: ~10 s CPU; characterises the fixture
def test_phase_reference_is_float32_limited(shared_dir):
    """The PyTorch float32 phase is itself > 1e-4 from a float64 evaluation."""
    z = _load_fixture(shared_dir / "parity" / "imse_pretrained_3399.npz")
    state = {k: v for k, v in z.items() if not k.startswith("io/")}
    cfg = get_config("imse")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        model = build_model(cfg)
        load_torch_weights(model, state, cfg)
        _, pha64, _ = model.predict(
            [z["io/noisy_mag"].astype("float64"), z["io/noisy_pha"].astype("float64")], verbose=0
        )
    finally:
        keras.config.set_dtype_policy(previous)
    ref_err = _wrapped(pha64, z["io/denoised_pha"]).max()
    assert ref_err > ATOL, f"reference phase within {ref_err:.2e} of float64"
