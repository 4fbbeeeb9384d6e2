"""File enhancement streams: same result as in memory, bounded memory, atomic.

Through :class:`conftest.LinearBackend` (a fixed per-bin gain, bit-identical
whatever the batch), so the comparisons with in-memory enhancement test the
streaming code alone, with bounds at float32 rounding.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from imse_keras.audio_io import AudioError, read_audio
from imse_keras.enhance import Enhancer
from imse_keras.streaming import enhance_file_streaming

SEG = 30700


@pytest.fixture
def enhancer(linear_backend):
    return Enhancer(linear_backend(), "tiny", batch_size=3)


def _signal(n, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None] / 16000
    x = 0.2 * np.sin(2 * np.pi * 180 * t * (1 + np.arange(channels))) + 0.03 * rng.standard_normal(
        (n, channels)
    )
    return x.astype("float32")


@pytest.mark.parametrize("n", [1, SEG - 1, 2 * SEG + 7])
@pytest.mark.parametrize("overlap", ["crossfade", "official"])
def test_same_as_in_memory_at_model_rate(enhancer, tmp_path, n, overlap):
    enh = Enhancer(enhancer.backend, "tiny", batch_size=3, overlap=overlap)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    x = _signal(n, channels=2)
    sf.write(src, x, 16000, subtype="FLOAT")
    enhance_file_streaming(enh, src, dst)
    got = read_audio(dst).samples
    want = enh.enhance(x, 16000)
    assert got.shape == x.shape
    # The only difference allowed: the norm's float64 energy is summed block by
    # block here and in one dot product in memory, which can move a normalised
    # sample by 1 ulp. Measured: at most half an ulp of the output's peak.
    np.testing.assert_allclose(got, want, rtol=0, atol=2 * np.spacing(np.abs(want).max()))


def test_other_rate_close_to_in_memory(enhancer, tmp_path):
    from imse_keras.audio_io import resample

    x = resample(_signal(40000, channels=2), 16000, 44100)
    src, dst = tmp_path / "in.flac", tmp_path / "out.flac"
    sf.write(src, x, 44100, subtype="PCM_24")
    enhance_file_streaming(enhancer, src, dst)
    got = read_audio(dst)
    want = enhancer.enhance(read_audio(src).samples, 44100)
    assert got.samples.shape == want.shape and got.sample_rate == 44100
    err = got.samples - want
    snr = 10 * np.log10((want.astype(np.float64) ** 2).sum() / (err.astype(np.float64) ** 2).sum())
    # Block-wise (soxr.ResampleStream) against one-shot resampling: measured
    # 131 dB, max error 1.8e-7. A resampler offset or a lost block gives < 20 dB.
    assert snr > 120, snr
    assert np.abs(err).max() < 1e-6


def _peak_memory(enhancer, tmp_path, blocks):
    src, dst = tmp_path / f"long{blocks}.wav", tmp_path / f"long{blocks}_out.wav"
    with sf.SoundFile(src, "w", 16000, 1, subtype="PCM_16") as f:
        for i in range(blocks):
            f.write(_signal(160000, seed=i)[:, 0])
    tracemalloc.start()
    try:
        enhance_file_streaming(enhancer, src, dst)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sf.info(dst).frames == blocks * 160000
    return peak


def test_memory_does_not_grow_with_length(enhancer, tmp_path):
    """Peak numpy memory is the same for 1 and 5 minutes of audio.

    (It is dominated by one batch's STFT temporaries; the 5-minute signal alone
    would be 19 MB as float32.)
    """
    short = _peak_memory(enhancer, tmp_path, 6)
    long = _peak_memory(enhancer, tmp_path, 30)
    assert long < 1.2 * short + 1e6, f"1 min: {short / 1e6:.1f} MB, 5 min: {long / 1e6:.1f} MB"


def test_errors_leave_nothing_behind(enhancer, tmp_path):
    dst = tmp_path / "out.wav"
    dst.write_bytes(b"previous result")
    (tmp_path / "text.wav").write_text("not audio")
    sf.write(tmp_path / "empty.wav", np.zeros(0, "float32"), 16000)
    for name, reason in (("missing.wav", "no such file"), ("text.wav", "not a readable"),
                         ("empty.wav", "empty")):
        with pytest.raises(AudioError, match=reason):
            enhance_file_streaming(enhancer, tmp_path / name, dst)

    def broken(mag, pha):
        raise RuntimeError("backend failed")

    sf.write(tmp_path / "ok.wav", _signal(SEG * 2)[:, 0], 16000)
    with pytest.raises(RuntimeError, match="backend failed"):
        enhance_file_streaming(Enhancer(broken, "tiny"), tmp_path / "ok.wav", dst)
    assert dst.read_bytes() == b"previous result"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
