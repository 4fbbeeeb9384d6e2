"""The one front end: config, layouts, segment plan, round trips, and its users."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imse_keras.config import DEFAULT_OVERLAP, get_config
from imse_keras.dsp.stft import mag_pha_stft, stft
from imse_keras.frontend import FrontEnd, polar_to_cartesian

SEG = 30700


def _signal(n, seed=0, lead=()):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (tone + 0.05 * rng.standard_normal((*lead, n))).astype(np.float32)


# --- construction -------------------------------------------------------------


def test_from_config_takes_the_five_front_end_numbers():
    for preset in ("imse", "tiny"):
        cfg = get_config(preset)
        fe = FrontEnd.from_config(preset)
        assert fe == FrontEnd.from_config(cfg)
        for f in dataclasses.fields(FrontEnd):
            assert getattr(fe, f.name) == getattr(cfg, f.name)
        assert (fe.num_freqs, fe.segment_frames) == (cfg.num_freqs, cfg.segment_frames)
    fe = FrontEnd.from_config("imse")
    assert FrontEnd.from_config(fe) is fe
    assert fe == FrontEnd(16000, 510, 100, 0.3, 30700)  # the released model's
    assert (fe.num_freqs, fe.segment_frames, fe.num_frames(1000)) == (256, 308, 11)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fe.hop_length = 50


@pytest.mark.parametrize("bad", [{"hop_length": 0}, {"hop_length": 600}, {"n_fft": 1.5},
                                 {"compress_factor": 0.0}, {"segment_size": -1}])
def test_bad_numbers_are_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        FrontEnd(**{**dataclasses.asdict(FrontEnd.from_config("imse")), **bad})


def test_the_model_carries_its_front_end(tiny_model):
    assert FrontEnd.from_config(tiny_model.imse_config) == FrontEnd.from_config("tiny")


def test_exported_at_the_top_level():
    import imse_keras

    assert "FrontEnd" in imse_keras.__all__ and imse_keras.FrontEnd is FrontEnd


# --- layouts ------------------------------------------------------------------


def test_features_are_frames_first():
    fe = FrontEnd.from_config("imse")
    x = _signal(4321, lead=(3,))
    mag_c, pha = fe.features(x)
    assert mag_c.shape == pha.shape == (3, 1 + 4321 // 100, 256)  # [B, T, F]
    assert mag_c.dtype == pha.dtype == np.float32
    spec = stft(x[1]).T  # dsp.stft is torch's [F, T]; transposed: [T, F]
    np.testing.assert_allclose(mag_c[1], np.abs(spec) ** 0.3, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.cos(pha[1]) * np.abs(spec), spec.real, atol=1e-4)
    # Row t is the spectrum of the 510 samples centred on sample t * hop.
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(510) / 510)
    frame = np.fft.rfft(x[1, 1000 - 255 : 1000 + 255].astype(np.float64) * window)
    np.testing.assert_allclose(spec[10], frame, atol=1e-4 * np.abs(frame).max())


def test_features_match_the_official_torch_features_transposed(shared_dir):
    """The parity fixture holds torch.stft features ``[B, F, T]``: ours are their
    transpose, within the tolerances of tests/test_dsp_stft.py."""
    with np.load(shared_dir / "parity" / "imse_pretrained_3399.npz") as z:
        wav, ref_mag, ref_pha = z["io/wav_in_normalized"], z["io/noisy_mag"], z["io/noisy_pha"]
    mag_c, pha = FrontEnd.from_config("imse").features(wav)
    ref_mag, ref_pha = np.swapaxes(ref_mag, 1, 2), np.swapaxes(ref_pha, 1, 2)
    assert mag_c.shape == ref_mag.shape
    np.testing.assert_allclose(mag_c, ref_mag, atol=3e-5, rtol=1e-5)
    loud = mag_c.astype(np.float64) ** (1 / 0.3) >= 1e-2
    assert loud.mean() > 0.9
    assert np.abs(np.angle(np.exp(1j * (pha - ref_pha))))[loud].max() < 3e-4


def test_cartesian_is_the_models_com_out():
    from imse_keras.layers import PolarToCartesian

    rng = np.random.default_rng(0)
    mag = rng.uniform(0, 2, (2, 8, 256)).astype(np.float32)
    pha = rng.uniform(-np.pi, np.pi, (2, 8, 256)).astype(np.float32)
    com = FrontEnd.cartesian(mag, pha)
    assert com.shape == (2, 8, 256, 2) and com.dtype == np.float32
    layer = np.asarray(PolarToCartesian()([mag, pha]))
    np.testing.assert_allclose(com, layer, atol=1e-6)
    np.testing.assert_array_equal(com, polar_to_cartesian(mag, pha))


# --- round trips --------------------------------------------------------------


@pytest.mark.parametrize("n", [777, SEG])
def test_features_to_waveform_round_trip(n):
    fe = FrontEnd.from_config("imse")
    x = _signal(n, seed=n)
    y = fe.waveform(*fe.features(x), length=n)
    assert y.shape == (n,) and y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=1e-4)
    # Batched, and the default length is hops * (T - 1).
    xb = _signal(3000, seed=1, lead=(2,))
    np.testing.assert_allclose(fe.waveform(*fe.features(xb)), xb, atol=1e-4)


def test_waveform_clips_negative_magnitudes():
    fe = FrontEnd.from_config("imse")
    mag_c, pha = fe.features(_signal(2000))
    noisy = mag_c.copy()
    noisy[3, 7] = -1e-3  # what a quantised backend can return
    np.testing.assert_array_equal(
        fe.waveform(noisy, pha, 2000), fe.waveform(np.maximum(noisy, 0), pha, 2000)
    )


def test_normalize_and_denormalize():
    fe = FrontEnd.from_config("imse")
    x = 0.01 * _signal(12345, seed=2)
    x_n, scale = fe.normalize(x)
    assert x_n.dtype == np.float32 and isinstance(scale, float)
    np.testing.assert_allclose(np.sqrt(np.mean(x_n.astype(np.float64) ** 2)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(fe.denormalize(x_n, scale), x, rtol=1e-6, atol=1e-9)
    assert fe.normalize(np.zeros(10, np.float32))[1] == 1.0


def test_per_channel_scale_rounds_like_normalize():
    """The streaming path scales blocks by a per-channel factor; it must give the
    same float32 samples as normalising each channel in memory."""
    from imse_keras.dsp.normalize import rms_scale

    fe = FrontEnd.from_config("imse")
    x = np.stack([_signal(5000, seed=3), 0.001 * _signal(5000, seed=4),
                  np.zeros(5000, np.float32)], axis=1)  # [n, channels]
    # (Streaming sums the energy block by block, which may move its last bit;
    # here it is summed as normalize does, to test the scaling itself.)
    energy = np.array([np.dot(c, c) for c in np.ascontiguousarray(x.T, np.float64)])
    scales = rms_scale(energy, len(x))
    scaled = fe.apply_scale(x.T, scales[:, None])
    for ch in range(3):
        x_n, s = fe.normalize(x[:, ch])
        assert s == scales[ch]
        np.testing.assert_array_equal(scaled[ch], x_n)
    assert scales[2] == 1.0  # silence is left alone


# --- segments -----------------------------------------------------------------


def test_segment_plan_split_and_merge():
    fe = FrontEnd.from_config("imse")
    assert fe.segments(1000) == [(0, 1000)]
    assert fe.segments(SEG) == [(0, SEG)]
    n = 2 * SEG + 7
    plan = fe.segments(n)
    assert plan == [(0, SEG), (SEG, 2 * SEG), (n - SEG, n)]  # the last one flush with the end
    x = _signal(n, seed=5)
    segs = fe.split(x)
    assert segs.shape == (3, SEG)
    np.testing.assert_array_equal(segs[2], x[-SEG:])
    np.testing.assert_array_equal(fe.merge(segs, plan, n), x)  # seamless
    short = fe.split(x[:1000])
    assert short.shape == (1, SEG) and not short[0, 1000:].any()


def test_merge_default_is_the_one_default_overlap():
    assert DEFAULT_OVERLAP == "crossfade"
    fe = FrontEnd.from_config("imse")
    n = SEG + 5000
    plan = fe.segments(n)
    rng = np.random.default_rng(6)
    outs = rng.standard_normal((2, SEG)).astype(np.float32)
    default = fe.merge(outs, plan, n)
    np.testing.assert_array_equal(default, fe.merge(outs, plan, n, "crossfade"))
    assert not np.array_equal(default, fe.merge(outs, plan, n, "official"))


def test_segment_features_are_the_enhancers_inputs(linear_backend):
    from imse_keras.enhance import Enhancer

    fe = FrontEnd.from_config("tiny")
    x = _signal(SEG + 5000, seed=7)
    mag_c, pha = fe.segment_features(x)
    assert mag_c.shape == (2, fe.segment_frames, fe.num_freqs)
    x_n, _ = fe.normalize(x)
    ref_m, ref_p = mag_pha_stft(x_n[-SEG:])  # torch's [F, T]
    np.testing.assert_array_equal(mag_c[1], ref_m.T)
    np.testing.assert_array_equal(pha[1], ref_p.T)

    seen = []

    def backend(m, p):
        seen.append((m.copy(), p.copy()))
        return m, p

    enh = Enhancer(backend, "tiny", batch_size=2)
    assert enh.frontend == fe
    enh.enhance_waveform(x)
    np.testing.assert_array_equal(seen[0][0], mag_c)
    np.testing.assert_array_equal(seen[0][1], pha)
