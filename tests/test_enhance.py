"""Enhancer: lengths, rates, channels, silence, batching, overlap.

The front end (normalisation, segmentation, STFT, merge, batching) is tested
through :class:`conftest.LinearBackend`, a fixed per-bin gain whose output does
not depend on batch composition, so comparisons are exact. A few cases run the
tiny random-weight Keras model to cover the Keras backend end to end; they
assert only what its weights cannot change (shape, dtype, finiteness, silence).
"""

from __future__ import annotations

import numpy as np
import pytest

from imse_keras.enhance import Enhancer

SEG = 30700


@pytest.fixture(scope="module")
def enhancer(tiny_model):
    return Enhancer.from_model(tiny_model, "tiny", batch_size=2)


def _speechy(n, sr=16000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
            + 0.05 * rng.standard_normal(n)).astype("float32")


# --- The Keras backend (tiny random weights) -----------------------------------------


# Both calls are two segments, one batch of 2: one trace of the model.
def test_keras_backend_output_has_input_length_and_is_finite(enhancer):
    x = _speechy(SEG + 1)
    y = enhancer.enhance_waveform(x)
    assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.isfinite(y))
    assert np.abs(y - x).max() > 1e-3  # the model did something


def test_silence_gives_silence(enhancer):
    y = enhancer.enhance_waveform(np.zeros(SEG + 1, np.float32))
    assert y.shape == (SEG + 1,) and np.all(y == 0)


# --- The front end, through the exact linear stand-in --------------------------------


@pytest.mark.parametrize("n", [1, 255, 16000, SEG, SEG + 1, 2 * SEG + 7, 3 * SEG + 123])
@pytest.mark.parametrize("overlap", ["official", "crossfade"])
def test_identity_backend_gives_back_the_input(linear_backend, n, overlap):
    """Segmentation, STFT, merge and de-normalisation invert each other exactly.

    A lost, shifted or doubled segment, a wrong tail merge or a wrong norm would be
    off by the signal itself (~0.3); measured error is <= 9e-8 (float32 rounding).
    """
    x = _speechy(n, seed=n)
    y = Enhancer(linear_backend(gain=None), "tiny", overlap=overlap).enhance_waveform(x)
    assert y.shape == (n,) and y.dtype == np.float32
    np.testing.assert_allclose(y, x, rtol=0, atol=5e-7)


@pytest.mark.parametrize("n", [255, SEG + 1, 2 * SEG + 7])
def test_output_has_input_length_and_differs_from_input(linear_backend, n):
    x = _speechy(n)
    y = Enhancer(linear_backend(), "tiny").enhance_waveform(x)
    assert y.shape == (n,) and y.dtype == np.float32 and np.all(np.isfinite(y))
    # The gain falls to 0.5 at Nyquist: the noise is attenuated, not passed through.
    assert np.abs(y - x).max() > 1e-3


def test_stereo_and_other_rate(linear_backend):
    enh = Enhancer(linear_backend(), "tiny")
    x = np.stack([_speechy(44100, 44100, 1), _speechy(44100, 44100, 2)], axis=1)
    y = enh.enhance(x, 44100)
    assert y.shape == x.shape and y.dtype == np.float32
    # Channels are enhanced independently: each is bit-identical to its mono run.
    for ch in range(2):
        np.testing.assert_array_equal(y[:, ch], enh.enhance(x[:, ch], 44100))
    assert not np.array_equal(y[:, 0], y[:, 1])
    # Resampled to the model's rate and back, nothing else: the identity backend
    # returns the round trip through the resampler.
    from imse_keras.audio_io import resample

    same = Enhancer(linear_backend(gain=None), "tiny").enhance(x, 44100)
    for ch in range(2):
        want = resample(resample(x[:, ch], 44100, 16000), 16000, 44100)[: len(x)]
        np.testing.assert_allclose(same[:, ch], want, rtol=0, atol=5e-7)


def test_batch_size_does_not_change_the_result(linear_backend):
    x = _speechy(3 * SEG + 123)  # 4 segments, the last one overlapping
    one, four = linear_backend(), linear_backend()
    a = Enhancer(one, "tiny", batch_size=1).enhance_waveform(x)
    b = Enhancer(four, "tiny", batch_size=3).enhance_waveform(x)
    assert one.calls == [1, 1, 1, 1] and four.calls == [3, 1]
    np.testing.assert_array_equal(a, b)


def test_overlap_modes_differ_only_in_the_overlap(linear_backend):
    x = _speechy(SEG + 5000)
    backend = linear_backend()
    a = Enhancer(backend, "tiny", overlap="official").enhance_waveform(x)
    b = Enhancer(backend, "tiny", overlap="crossfade").enhance_waveform(x)
    start_of_tail = len(x) - SEG
    np.testing.assert_array_equal(a[:start_of_tail], b[:start_of_tail])
    # In the overlap the two segments' outputs differ near their edges, so the modes do.
    assert np.abs(a[start_of_tail:SEG] - b[start_of_tail:SEG]).max() > 1e-6
    np.testing.assert_array_equal(a[SEG:], b[SEG:])  # after the overlap: the last segment


def test_scale_invariance_from_rms_normalisation(linear_backend):
    # A power-of-two gain is exact in floating point, so RMS normalisation must
    # make the backend see bit-identical input and the output scale back exactly.
    enh = Enhancer(linear_backend(), "tiny")
    x = _speechy(20000)
    gain = 2.0**-7
    np.testing.assert_array_equal(enh.enhance_waveform(gain * x), gain * enh.enhance_waveform(x))


def test_bad_input(linear_backend):
    enh = Enhancer(linear_backend(), "tiny")
    with pytest.raises(ValueError, match="non-empty 1-D"):
        enh.enhance_waveform(np.zeros((0,), np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        enh.enhance_waveform(np.full(100, np.nan, np.float32))
    with pytest.raises(ValueError, match="overlap must be one of"):
        Enhancer(enh.backend, "tiny", overlap="nope")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        Enhancer(enh.backend, "tiny", batch_size=0)
