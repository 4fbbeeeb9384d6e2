"""Bulk enhancement on Ray (``imse enhance --ray``): planning, URIs, resume, and a local Ray run.

The planning and per-file tests need no Ray and run by default; the end-to-end
run on a local Ray instance is slow-marked (Ray's start-up plus one TensorFlow
import per actor take well over 30 s on the 2-core reference machine).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

LSB16 = 1.0 / 32768


def _tone(n, channels, sr, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None] + 0.05 * rng.standard_normal((n, channels))
    return x.astype(np.float32)


@pytest.fixture
def mixed_folder(tmp_path):
    """Four files of mixed rate, channels and format, plus one that is not audio."""
    d = tmp_path / "in"
    d.mkdir()
    sf.write(d / "a_16k_mono.wav", _tone(20000, 1, 16000, 0), 16000, subtype="PCM_16")
    sf.write(d / "b_44k_stereo.wav", _tone(50000, 2, 44100, 1), 44100, subtype="PCM_16")
    sf.write(d / "c_8k_mono.flac", _tone(9000, 1, 8000, 2), 8000, subtype="PCM_16")
    sf.write(d / "d_48k_stereo24.flac", _tone(60000, 2, 48000, 3), 48000, subtype="PCM_24")
    (d / "e_bad.wav").write_bytes(b"RIFF not really a wave file")
    return d


@pytest.fixture
def tiny_weights(tiny_model, tmp_path):
    path = tmp_path / "tiny.weights.h5"
    tiny_model.save_weights(path)
    return path


def _enhance(*args):
    from imse_keras.cli import main

    return CliRunner().invoke(main, ["enhance", *map(str, args)], catch_exceptions=False)


def _assert_same_audio(a: Path, b: Path):
    x, sr_x = sf.read(a, always_2d=True)
    y, sr_y = sf.read(b, always_2d=True)
    assert (sr_x, x.shape, sf.info(a).subtype) == (sr_y, y.shape, sf.info(b).subtype), a.name
    assert np.max(np.abs(x - y)) <= LSB16 + 1e-9, (a.name, np.max(np.abs(x - y)))


def test_plan_names_match_the_single_process_path(mixed_folder, tmp_path):
    from imse_keras.cli.outputs import plan_outputs
    from imse_keras.ray_enhance import plan_bulk

    local = plan_bulk([str(mixed_folder)], str(tmp_path / "out"))
    assert local == [(str(s), str(d)) for s, d in plan_outputs([mixed_folder], tmp_path / "out")]
    uri = plan_bulk([mixed_folder.as_uri()], (tmp_path / "out").as_uri())
    assert [Path(d.removeprefix("file://")).name for _, d in uri] == [Path(d).name for _, d in local]
    assert all(s.startswith("file:///") and d.startswith("file:///") for s, d in uri)
    one = plan_bulk([(mixed_folder / "a_16k_mono.wav").as_uri()], (tmp_path / "x.wav").as_uri())
    assert one == [((mixed_folder / "a_16k_mono.wav").as_uri(), (tmp_path / "x.wav").as_uri())]


def test_plan_errors_are_one_line(tmp_path):
    from imse_keras.audio_io import AudioError
    from imse_keras.ray_enhance import plan_bulk

    with pytest.raises(AudioError, match="no such file"):
        plan_bulk([(tmp_path / "missing").as_uri()], str(tmp_path / "out"))
    with pytest.raises(ValueError, match="not a usable path"):
        plan_bulk(["nosuchscheme://bucket/x"], str(tmp_path / "out"))


def test_uri_staging_writes_what_enhance_file_writes_and_resume_skips(mixed_folder, tiny_model, tmp_path):
    from imse_keras.enhance import Enhancer
    from imse_keras.streaming import enhance_file_streaming as enhance_file
    from imse_keras.ray_enhance import enhance_one, plan_bulk, split_finished

    enh = Enhancer.from_model(tiny_model, "tiny")
    src = mixed_folder / "d_48k_stereo24.flac"
    enhance_file(enh, src, tmp_path / "direct" / src.name)
    info = enhance_one(enh, src.as_uri(), (tmp_path / "staged" / src.name).as_uri())
    assert info["output"] == (tmp_path / "staged" / src.name).as_uri() and info["channels"] == 2
    _assert_same_audio(tmp_path / "direct" / src.name, tmp_path / "staged" / src.name)
    assert [p.name for p in (tmp_path / "staged").iterdir()] == [src.name]  # no temp object left

    pairs = plan_bulk([mixed_folder.as_uri()], (tmp_path / "staged").as_uri())
    todo, done = split_finished(pairs)
    assert [Path(d).name for _, d in done] == [src.name] and len(todo) == 4


def test_ray_option_without_ray_or_with_bad_address_is_one_line(mixed_folder, tiny_weights, tmp_path):
    res = _enhance(mixed_folder, "-o", tmp_path / "out", "--preset", "tiny", "--weights", tiny_weights,
                   "--ray", "ray://127.0.0.1:1" if importlib.util.find_spec("ray") else "local", "-q")
    assert res.exit_code == 1
    last = res.output.strip().splitlines()[-1]
    assert last.startswith("Error:") and ("Ray" in last or "ray" in last), res.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_local_ray_matches_single_process_and_resumes(mixed_folder, tiny_weights, tmp_path):
    if importlib.util.find_spec("ray") is None:
        pytest.skip('ray is not installed (pip install "imse-keras[ray]")')
    common = ["--preset", "tiny", "--weights", tiny_weights, "--threads", "1"]
    single = _enhance(mixed_folder, "-o", tmp_path / "single", *common)
    assert single.exit_code == 1 and "e_bad.wav" in single.output

    out = tmp_path / "ray"
    res = _enhance(mixed_folder.as_uri(), "-o", out.as_uri(), *common, "--ray", "local", "--ray-workers", "2")
    assert res.exit_code == 1, res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "e_bad.wav" in errors[0], res.output
    assert "enhanced 4/5 file(s) on Ray (0 already done, 1 failed)" in res.output, res.output
    names = sorted(p.name for p in (tmp_path / "single").iterdir())
    assert names == sorted(p.name for p in out.iterdir()) and len(names) == 4
    for name in names:
        _assert_same_audio(tmp_path / "single" / name, out / name)

    # Rerun: the four finished files are skipped, the bad one is tried again.
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = _enhance(mixed_folder.as_uri(), "-o", out.as_uri(), *common, "--ray", "local", "--ray-workers", "1")
    assert "enhanced 0/5 file(s) on Ray (4 already done, 1 failed)" in again.output, again.output
    assert stamps == {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
