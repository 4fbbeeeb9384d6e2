"""Synthetic speech (eSpeak NG), noise generators, mixing and example pairs.

Speech tests skip when the ``espeakng-loader`` wheel is not installed.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import welch

from imse_keras.synth import (
    NOISE_TYPES,
    SENTENCES,
    VOICES,
    SynthesisError,
    fit_length,
    load_noise,
    make_example,
    make_noise,
    make_pair,
    mix_at_snr,
    normalize_pair,
    peak_normalize,
    synthesize,
)
from imse_keras.synth import speech as speech_module

SR = 16000
FOX = "The quick brown fox jumps over the lazy dog."


@pytest.fixture
def espeak():
    pytest.importorskip("espeakng_loader")


def _rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(np.asarray(x, np.float64)))))


def _snr_db(clean, noise) -> float:
    c, n = np.asarray(clean, np.float64), np.asarray(noise, np.float64)
    return float(10 * np.log10(np.sum(c**2) / np.sum(n**2)))


def _slope_db_per_octave(x, sample_rate=SR) -> float:
    f, p = welch(x, sample_rate, nperseg=2048)
    band = (f >= 100) & (f <= 4000)
    return float(np.polyfit(np.log2(f[band]), 10 * np.log10(p[band]), 1)[0])


# --- speech ------------------------------------------------------------------


def test_synthesize_is_speech_like(espeak):
    x = synthesize(FOX)
    assert x.dtype == np.float32 and x.ndim == 1
    duration = x.shape[0] / SR
    assert 1.5 < duration < 5.0  # 9 words at 160 wpm is about 3 s
    assert 0.02 < _rms(x) and np.max(np.abs(x)) <= 1.0
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.shape[0], 1 / SR)
    assert power[(f >= 100) & (f <= 4000)].sum() > 0.8 * power.sum()
    # Silence (below -50 dB re peak) is trimmed to at most 0.1 s at each end.
    loud = np.flatnonzero(np.abs(x) > 10 ** (-50 / 20) * np.max(np.abs(x)))
    assert loud[0] <= 0.1 * SR + 1 and x.shape[0] - 1 - loud[-1] <= 0.1 * SR + 1


def test_synthesize_duration_follows_text_and_rate(espeak):
    short = synthesize("Hello there.")
    long = synthesize(FOX + " " + SENTENCES[0])
    assert short.shape[0] < long.shape[0]
    fast = synthesize(FOX, rate=320)
    slow = synthesize(FOX, rate=120)
    assert fast.shape[0] < 0.7 * slow.shape[0]


def test_synthesize_is_deterministic_whatever_came_before(espeak):
    # libespeak-ng keeps static state between utterances (each call reloads
    # it), and seeds its breath noise (used by +f3) from the clock in seconds.
    first = synthesize(FOX, voice="en+f3")
    synthesize(SENTENCES[3], voice="en-us", rate=200, pitch=80)
    time.sleep(1.02 - time.time() % 1.0)
    again = synthesize(FOX, voice="en+f3")
    np.testing.assert_array_equal(first, again)


def test_synthesize_is_thread_safe(espeak):
    jobs = [(SENTENCES[i], VOICES[i % len(VOICES)]) for i in range(6)]
    serial = [synthesize(t, voice=v) for t, v in jobs]
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = list(pool.map(lambda job: synthesize(job[0], voice=job[1]), jobs))
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("voice", VOICES)
def test_every_listed_voice_works(espeak, voice):
    assert _rms(synthesize("One two three.", voice=voice)) > 0.02


def test_voices_and_pitch_change_the_audio(espeak):
    base = synthesize(FOX, voice="en-us")
    for other in (
        synthesize(FOX, voice="en+f3"),
        synthesize(FOX, voice="en-gb-x-rp"),
        synthesize(FOX, voice="en-us", pitch=90),
    ):
        n = min(base.shape[0], other.shape[0])
        assert base.shape != other.shape or not np.allclose(base[:n], other[:n], atol=1e-3)


def test_synthesize_sample_rates(espeak):
    native = synthesize(FOX, sample_rate=22050)
    for rate in (8000, 16000, 48000):
        x = synthesize(FOX, sample_rate=rate)
        assert x.dtype == np.float32
        # Trimming works on the resampled signal, so allow a few ms of slack.
        assert abs(x.shape[0] / rate - native.shape[0] / 22050) < 0.01


@pytest.mark.parametrize("voice", ["xx-yy", "en+no-such-variant", "", "+f3"])
def test_unknown_voice_raises(espeak, voice):
    with pytest.raises(SynthesisError, match="unknown espeak-ng voice"):
        synthesize(FOX, voice=voice)


@pytest.mark.parametrize("text", ["", "   ", "..."])
def test_text_without_audio_raises(espeak, text):
    with pytest.raises(SynthesisError, match="no audio"):
        synthesize(text)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": 20},
        {"rate": 1000},
        {"rate": 160.5},
        {"pitch": -1},
        {"pitch": 101},
        {"sample_rate": 0},
    ],
)
def test_synthesize_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        synthesize(FOX, **kwargs)


def test_missing_espeakng_loader_is_reported(monkeypatch):
    monkeypatch.setattr(speech_module, "_ENGINE", None)
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)  # makes the import fail
    with pytest.raises(SynthesisError, match="pip install espeakng-loader"):
        synthesize(FOX)


def test_sentences_are_varied():
    assert len(SENTENCES) >= 40 and len(set(SENTENCES)) == len(SENTENCES)
    assert all(s[0].isupper() and s.endswith(".") for s in SENTENCES)


# --- noise -------------------------------------------------------------------

SYNTHETIC = [k for k in NOISE_TYPES if k != "babble"]


@pytest.mark.parametrize("kind", SYNTHETIC)
def test_noise_has_unit_rms_and_is_seeded(kind):
    x = make_noise(kind, 3 * SR, SR, np.random.default_rng(1))
    assert x.dtype == np.float32 and x.shape == (3 * SR,)
    assert np.all(np.isfinite(x))
    assert _rms(x) == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_array_equal(x, make_noise(kind, 3 * SR, SR, np.random.default_rng(1)))
    assert not np.array_equal(x, make_noise(kind, 3 * SR, SR, np.random.default_rng(2)))


@pytest.mark.parametrize("kind", SYNTHETIC)
@pytest.mark.parametrize("num_samples", [1, 2, 3, 17])
def test_noise_handles_tiny_lengths(kind, num_samples):
    x = make_noise(kind, num_samples, SR, 0)
    assert x.shape == (num_samples,) and np.all(np.isfinite(x))


@pytest.mark.parametrize(
    ("kind", "expected", "tol"), [("white", 0.0, 0.3), ("pink", -3.01, 0.3), ("brown", -6.02, 0.5)]
)
def test_noise_spectral_tilt(kind, expected, tol):
    slopes = [_slope_db_per_octave(make_noise(kind, 4 * SR, SR, seed)) for seed in range(3)]
    assert np.mean(slopes) == pytest.approx(expected, abs=tol)


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_hum_peaks_at_mains_frequency(mains_hz):
    x = make_noise("hum", 2 * SR, SR, 0, mains_hz=mains_hz)
    f, p = welch(x, SR, nperseg=SR)  # 1 Hz bins
    assert f[np.argmax(p)] == pytest.approx(mains_hz, abs=1.0)
    assert 10 * np.log10(p.max() / np.median(p)) > 40
    # Harmonics are there too, weaker than the fundamental.
    k2 = np.argmin(np.abs(f - 2 * mains_hz))
    assert 10 * np.log10(p[k2] / np.median(p)) > 20 and p[k2] < p.max()


def test_hum_picks_50_or_60_hz():
    peaks = set()
    for seed in range(8):
        f, p = welch(make_noise("hum", SR, SR, seed), SR, nperseg=SR)
        peaks.add(float(f[np.argmax(p)]))
    assert peaks == {50.0, 60.0}


def test_clicks_are_sparse_and_impulsive():
    x = make_noise("clicks", 4 * SR, SR, 0)
    assert np.max(np.abs(x)) > 10  # crest factor of impulses, not Gaussian noise (about 4)
    assert np.mean(np.abs(x) > 3) < 0.01


def test_babble_is_speech_like(espeak):
    x = make_noise("babble", 2 * SR, SR, np.random.default_rng(0), n_talkers=3)
    assert x.shape == (2 * SR,) and _rms(x) == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_array_equal(x, make_noise("babble", 2 * SR, SR, 0, n_talkers=3))
    f, p = welch(x, SR, nperseg=1024)
    assert p[(f >= 100) & (f <= 4000)].sum() > 0.8 * p.sum()


def test_make_noise_rejects_unknown_kind():
    with pytest.raises(ValueError, match="white, pink"):
        make_noise("purple", 100)
    with pytest.raises(ValueError, match="num_samples"):
        make_noise("white", 0)


def test_fit_length_crops_and_loops():
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(fit_length(x, 4), x[:4])
    np.testing.assert_array_equal(fit_length(x, 25), np.resize(x, 25))
    cropped = fit_length(x, 4, np.random.default_rng(3))
    assert np.all(np.diff(cropped) == 1)  # a contiguous window
    looped = fit_length(x, 25, np.random.default_rng(3))
    assert set(np.diff(looped)) <= {1.0, -9.0}  # cyclic reading, wraps 9 -> 0


def test_load_noise_mixes_resamples_and_loops(tmp_path):
    rng = np.random.default_rng(0)
    stereo = 0.1 * rng.standard_normal((4000, 2)).astype(np.float32)  # 0.5 s at 8 kHz
    path = tmp_path / "noise.wav"
    sf.write(path, stereo, 8000, subtype="FLOAT")
    x = load_noise(path, 2 * SR, SR, np.random.default_rng(1))
    assert x.shape == (2 * SR,) and x.dtype == np.float32
    assert _rms(x) == pytest.approx(1.0, abs=1e-4)
    crop = load_noise(path, SR // 4, SR, 0)
    assert crop.shape == (SR // 4,)


def test_load_noise_rejects_silence(tmp_path):
    from imse_keras.audio_io import AudioError

    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros(800, np.float32), SR)
    with pytest.raises(AudioError, match="silent"):
        load_noise(path, 1000, SR)


# --- mixing ------------------------------------------------------------------


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 5.0, 20.0])
def test_mix_at_snr_hits_the_target(snr_db):
    rng = np.random.default_rng(0)
    clean = np.sin(np.arange(SR) * 0.05).astype(np.float32) * 0.3
    noise = rng.standard_normal(SR // 3).astype(np.float32)  # shorter: looped
    noisy, scaled = mix_at_snr(clean, noise, snr_db, rng)
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape == scaled.shape
    assert _snr_db(clean, scaled) == pytest.approx(snr_db, abs=0.1)
    np.testing.assert_allclose(noisy, clean + scaled, atol=1e-6)


def test_mix_at_snr_is_seeded():
    clean = np.ones(100, np.float32)
    noise = np.random.default_rng(0).standard_normal(1000)
    a, _ = mix_at_snr(clean, noise, 0.0, np.random.default_rng(5))
    b, _ = mix_at_snr(clean, noise, 0.0, np.random.default_rng(5))
    c, _ = mix_at_snr(clean, noise, 0.0, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_mix_at_snr_rejects_silence():
    with pytest.raises(ValueError, match="clean is all zeros"):
        mix_at_snr(np.zeros(100), np.ones(100), 5.0)
    with pytest.raises(ValueError, match="noise is all zeros"):
        mix_at_snr(np.ones(100), np.zeros(100), 5.0)
    with pytest.raises(ValueError, match="snr_db"):
        mix_at_snr(np.ones(100), np.ones(100), float("nan"))


def test_normalize_pair_shares_one_gain():
    clean = np.array([0.1, -0.5, 0.2], np.float32)
    noisy = np.array([0.3, -2.0, 0.1], np.float32)
    c, n = normalize_pair(clean, noisy, peak=0.9)
    assert np.max(np.abs(n)) == pytest.approx(0.9)
    np.testing.assert_allclose(c / clean, n / noisy, rtol=1e-6)
    assert np.max(np.abs(peak_normalize(clean, 0.5))) == pytest.approx(0.5)
    np.testing.assert_array_equal(peak_normalize(np.zeros(4)), np.zeros(4))


# --- examples ----------------------------------------------------------------


def test_make_example_is_deterministic(espeak, tmp_path):
    a = make_example(tmp_path / "a", seed=0)
    b = make_example(tmp_path / "b", seed=0)
    assert [p.relative_to(tmp_path / "a").as_posix() for p in a] == [
        "clean/example.wav",
        "noisy/example.wav",
    ]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    clean, noisy = (sf.read(p, dtype="float32") for p in a)
    assert clean[1] == noisy[1] == SR
    assert sf.info(a[1]).subtype == "PCM_16"
    assert clean[0].shape == noisy[0].shape
    assert 4.0 <= clean[0].shape[0] / SR <= 6.0
    assert _snr_db(clean[0], noisy[0] - clean[0]) == pytest.approx(5.0, abs=0.2)
    other, _ = make_example(tmp_path / "c", seed=1)
    assert other.read_bytes() != a[0].read_bytes()


@pytest.mark.parametrize("noise", SYNTHETIC)
def test_make_pair_with_every_noise_kind(espeak, noise):
    clean, noisy = make_pair(seed=3, snr_db=0.0, noise=noise, text="Testing one two three.")
    assert clean.shape == noisy.shape and clean.dtype == np.float32
    assert max(np.max(np.abs(clean)), np.max(np.abs(noisy))) == pytest.approx(0.9)
    assert _snr_db(clean, noisy - clean) == pytest.approx(0.0, abs=0.1)


def test_make_pair_with_a_noise_file(espeak, tmp_path):
    path = tmp_path / "fan.wav"
    sf.write(path, 0.2 * np.random.default_rng(0).standard_normal(SR), SR)
    clean, noisy = make_pair(seed=0, snr_db=10.0, noise=path, text="Hello.")
    assert _snr_db(clean, noisy - clean) == pytest.approx(10.0, abs=0.1)
    with pytest.raises(ValueError, match="noise must be one of"):
        make_pair(noise="no-such-kind-or-file")
