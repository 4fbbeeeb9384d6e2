"""Audio file I/O: round trips, atomic writes, clear errors, resampling, discovery."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import soundfile as sf

from imse_keras import audio_io
from imse_keras.audio_io import (
    AudioData,
    AudioError,
    find_audio_files,
    read_audio,
    resample,
    write_audio,
)


def _tone(n=4000, sr=16000, freq=440.0, amp=0.5, channels=None):
    t = np.arange(n) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    if channels:
        x = np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)
    return x


# --- round trips ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, subtype, atol",
    [
        ("a.wav", "PCM_16", 1 / 32768),
        ("a.wav", "FLOAT", 0.0),
        ("a.flac", None, 1 / 32768),
        ("a.flac", "PCM_24", 1 / 2**23),
    ],
)
def test_round_trip(tmp_path, name, subtype, atol):
    x = _tone()
    path = tmp_path / name
    write_audio(path, x, 16000, subtype=subtype)
    audio = read_audio(path)
    assert isinstance(audio, AudioData)
    assert audio.samples.dtype == np.float32 and audio.samples.shape == (len(x), 1)
    assert audio.sample_rate == 16000
    assert audio.format == ("WAV" if name.endswith(".wav") else "FLAC")
    assert audio.subtype == (subtype or "PCM_16")
    np.testing.assert_allclose(audio.samples[:, 0], x, atol=atol)
    assert audio.num_samples == len(x) and audio.num_channels == 1
    assert audio.duration == pytest.approx(0.25)


def test_stereo_round_trip(tmp_path):
    x = _tone(channels=2)
    write_audio(tmp_path / "s.wav", x, 22050, subtype="FLOAT")
    audio = read_audio(tmp_path / "s.wav")
    assert audio.samples.shape == (len(x), 2) and audio.sample_rate == 22050
    np.testing.assert_array_equal(audio.samples, x)


def test_integer_subtypes_clip_and_float_does_not(tmp_path):
    x = np.array([0.0, 1.5, -2.0, 0.25], np.float32)
    write_audio(tmp_path / "i.wav", x, 8000)
    np.testing.assert_allclose(
        read_audio(tmp_path / "i.wav").samples[:, 0], [0.0, 1.0, -1.0, 0.25], atol=1 / 32768
    )
    write_audio(tmp_path / "f.wav", x, 8000, subtype="FLOAT")
    np.testing.assert_array_equal(read_audio(tmp_path / "f.wav").samples[:, 0], x)


def test_write_creates_parent_dirs_and_overwrites(tmp_path):
    path = tmp_path / "deep" / "er" / "out.wav"
    write_audio(path, _tone(), 16000)
    write_audio(path, _tone(n=100), 16000)
    assert read_audio(path).num_samples == 100
    assert sorted(os.listdir(path.parent)) == ["out.wav"]


def test_write_explicit_format_overrides_extension(tmp_path):
    path = tmp_path / "weird.audio"
    write_audio(path, _tone(), 16000, format="FLAC")
    assert read_audio(path).format == "FLAC"


def test_written_file_has_normal_permissions(tmp_path):
    path = tmp_path / "p.wav"
    write_audio(path, _tone(), 16000)
    mask = os.umask(0)
    os.umask(mask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~mask)


# --- atomic write -------------------------------------------------------------


def test_failed_write_leaves_target_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.wav"
    write_audio(path, _tone(), 16000)
    before = path.read_bytes()

    def broken_write(file, data, *args, **kwargs):
        with open(file, "wb") as f:  # half a file, then the failure
            f.write(b"RIFF....")
        raise RuntimeError("disk full")

    monkeypatch.setattr(audio_io.sf, "write", broken_write)
    with pytest.raises(AudioError, match="keep.wav: could not write audio.*disk full"):
        write_audio(path, _tone(n=10), 16000)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.wav"]


def test_interrupted_write_cleans_up_and_propagates(tmp_path, monkeypatch):
    def interrupted(file, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(audio_io.sf, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_audio(tmp_path / "x.wav", _tone(), 16000)
    assert os.listdir(tmp_path) == []


def test_write_errors(tmp_path):
    with pytest.raises(AudioError, match="cannot infer an audio format"):
        write_audio(tmp_path / "x.xyz", _tone(), 16000)
    with pytest.raises(AudioError, match="not valid for format"):
        write_audio(tmp_path / "x.flac", _tone(), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or inf"):
        write_audio(tmp_path / "x.wav", np.array([0.0, np.nan], np.float32), 16000)
    with pytest.raises(AudioError, match="sample_rate"):
        write_audio(tmp_path / "x.wav", _tone(), 0)
    with pytest.raises(AudioError, match="0 samples"):
        write_audio(tmp_path / "x.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="shape"):
        write_audio(tmp_path / "x.wav", np.zeros((2, 2, 2), np.float32), 16000)
    assert os.listdir(tmp_path) == []


# --- read errors --------------------------------------------------------------


def test_read_missing(tmp_path):
    with pytest.raises(AudioError, match="nope.wav: no such file"):
        read_audio(tmp_path / "nope.wav")


def test_read_directory(tmp_path):
    with pytest.raises(AudioError, match="is a directory"):
        read_audio(tmp_path)


def test_read_empty_wav(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="empty.wav: empty"):
        read_audio(path)


def test_read_text_file_named_wav(tmp_path):
    path = tmp_path / "x.wav"
    path.write_text("this is not audio\n")
    with pytest.raises(AudioError, match="x.wav: not a readable audio file"):
        read_audio(path)


def test_read_non_finite(tmp_path):
    path = tmp_path / "nan.wav"
    sf.write(path, np.array([0.0, np.nan, 0.5], np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        read_audio(path)


def test_audio_error_is_a_value_error_and_pickles():
    err = AudioError("a.wav", "broken")
    assert isinstance(err, ValueError)
    assert str(err) == "a.wav: broken"
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.path, copy.reason, str(copy)) == ("a.wav", "broken", "a.wav: broken")


# --- resampling ---------------------------------------------------------------


def _peak_hz(x, sr):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spectrum) * sr / len(x)


def test_resample_48k_to_16k_keeps_frequency_and_ratio():
    x = _tone(n=48000, sr=48000, freq=1000.0)
    y = resample(x, 48000, 16000)
    assert y.dtype == np.float32 and y.shape == (16000,)
    assert _peak_hz(y, 16000) == pytest.approx(1000.0, abs=2.0)
    # The tone is well inside both bands: level and waveform are kept.
    np.testing.assert_allclose(y[1000:-1000], _tone(n=16000, freq=1000.0)[1000:-1000], atol=1e-3)


def test_resample_stereo_and_identity():
    x = _tone(n=4410, sr=44100, freq=300.0, channels=2)
    y = resample(x, 44100, 16000)
    assert y.shape == (1600, 2)
    np.testing.assert_allclose(y[:, 1], 2 * y[:, 0], atol=1e-5)  # channels kept apart
    assert resample(x, 16000, 16000) is x
    with pytest.raises(ValueError, match="orig_sr"):
        resample(x, 0, 16000)


# --- discovery ----------------------------------------------------------------


def test_find_audio_files(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for name in ["b.wav", "a.FLAC", "c.txt", ".hidden.wav", "._a.wav"]:
        (d / name).write_bytes(b"")
    (d / "sub").mkdir()
    (d / "sub" / "deep.wav").write_bytes(b"")
    extra = tmp_path / "extra.ogg"
    extra.write_bytes(b"")

    found = find_audio_files([extra, str(d), d / "b.wav"])
    assert found == [extra, d / "a.FLAC", d / "b.wav"]  # b.wav not repeated


def test_find_audio_files_errors(tmp_path):
    with pytest.raises(AudioError, match="missing: no such file or directory"):
        find_audio_files([tmp_path / "missing"])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(AudioError, match="no audio files"):
        find_audio_files([tmp_path])
