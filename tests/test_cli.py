"""The ``imse`` CLI end to end, with the tiny preset where speed matters."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from imse_keras.cli import main


@pytest.fixture(scope="module")
def tiny_weights(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "tiny.weights.h5"
    tiny_model.save_weights(path)
    return str(path)


def _tone(n, sr, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * 200 * t)[:, None] + 0.05 * rng.standard_normal((n, channels))
    return x.astype("float32")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


def test_help_for_every_command():
    assert run("--help").exit_code == 0
    for cmd in ("enhance", "evaluate", "info", "demo"):
        result = run(cmd, "--help")
        assert result.exit_code == 0 and "--help" in result.output


def test_version():
    assert "imse, version" in run("--version").output


def test_info_reports_official_parameter_count():
    result = run("info", "--preset", "imse")
    assert result.exit_code == 0
    assert "432,995" in result.output
    # MACs per second of audio as our graph executes it. The official code counts 4.52 G
    # (8.71 G per segment); the layers trade 8 % more MACs (block-diagonal per-head attention
    # products, the RoPE pair swap as a +-1 conv) for a graph without GATHER/TRANSPOSE glue.
    assert "4.88 G" in result.output
    assert "9.40 G" in result.output  # per 30,700-sample segment


def test_enhance_keeps_rate_channels_length_and_format(tiny_weights, tmp_path):
    src = tmp_path / "in.flac"
    sf.write(src, _tone(22050 + 37, 22050, channels=2), 22050, subtype="PCM_24")
    dst = tmp_path / "out.flac"
    result = run("enhance", src, "-o", dst, "--weights", tiny_weights, "--preset", "tiny")
    assert result.exit_code == 0, result.output
    info_in, info_out = sf.info(src), sf.info(dst)
    assert (info_out.samplerate, info_out.channels, info_out.frames) == (22050, 2, 22050 + 37)
    assert (info_out.format, info_out.subtype) == (info_in.format, info_in.subtype)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def test_enhance_directory_reports_bad_files_and_keeps_going(tiny_weights, tmp_path):
    indir = tmp_path / "in"
    indir.mkdir()
    sf.write(indir / "a.wav", _tone(16000, 16000)[:, 0], 16000, subtype="PCM_16")
    sf.write(indir / "b.wav", _tone(100, 16000)[:, 0], 16000, subtype="FLOAT")
    (indir / "c.wav").write_text("not audio")
    sf.write(indir / "d.wav", np.zeros(0, "float32"), 16000)
    out = tmp_path / "out"
    result = run("enhance", indir, "-o", out, "--weights", tiny_weights, "--preset", "tiny", "-q")
    assert result.exit_code == 1
    assert "2 file(s) failed" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.wav", "b.wav"]
    assert sf.info(out / "b.wav").frames == 100


@pytest.mark.parametrize(
    "args, code, message",
    [
        # A bad input file is an error of the run (1); a wrong command line is a
        # usage error (2, click's convention).
        (["enhance", "missing.wav", "-o", "x.wav"], 1, "no such file or directory"),
        (["evaluate", "--clean", "."], 2, "exactly one of"),
    ],
)
def test_usage_and_input_errors(args, code, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_corrupt_checkpoint_exits_1_with_one_line(tmp_path):
    src = tmp_path / "in.wav"
    sf.write(src, _tone(1600, 16000)[:, 0], 16000)
    bad = tmp_path / "ckpt.pt"
    bad.write_bytes(b"\x00" * 100)
    result = run("enhance", src, "-o", tmp_path / "out.wav", "--weights", bad)
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1


def test_refuses_to_overwrite_input(tiny_weights, tmp_path):
    src = tmp_path / "in.wav"
    sf.write(src, _tone(1600, 16000)[:, 0], 16000)
    before = src.read_bytes()
    result = run("enhance", src, "-o", src, "--weights", tiny_weights, "--preset", "tiny")
    assert result.exit_code == 1 and "overwrite" in result.output
    assert src.read_bytes() == before


def _speech_pair(root, name, seed):
    synth = pytest.importorskip("imse_keras.synth")
    clean, noisy = synth.make_pair(seed=seed, snr_db=5.0, noise="white")
    for sub, x in (("clean", clean), ("noisy", noisy)):
        (root / sub).mkdir(exist_ok=True)
        sf.write(root / sub / name, x, 16000, subtype="PCM_16")


def test_evaluate_enhanced_and_noisy_dirs(tiny_weights, tmp_path):
    _speech_pair(tmp_path, "a.wav", 0)
    _speech_pair(tmp_path, "b.wav", 1)
    out_json = tmp_path / "scores.json"
    result = run("evaluate", "--clean", tmp_path / "clean", "--enhanced", tmp_path / "noisy",
                 "--json", out_json, "-q")
    assert result.exit_code == 0, result.output
    assert "a.wav" in result.output and "mean" in result.output
    payload = json.loads(out_json.read_text())
    assert {"pesq", "stoi", "si_sdr", "csig", "cbak", "covl", "ssnr"} <= set(payload["mean"])
    assert len(payload["files"]) == 2
    # Clean against itself is the ceiling.
    result = run("evaluate", "--clean", tmp_path / "clean", "--enhanced", tmp_path / "clean", "-q")
    assert "4.64" in result.output
    result = run("evaluate", "--clean", tmp_path / "clean", "--noisy", tmp_path / "noisy",
                 "--weights", tiny_weights, "--preset", "tiny", "-q")
    assert result.exit_code == 0, result.output


def test_evaluate_unmatched_names(tmp_path):
    _speech_pair(tmp_path, "a.wav", 0)
    other = tmp_path / "other"
    other.mkdir()
    sf.write(other / "zzz.wav", _tone(16000, 16000)[:, 0], 16000)
    result = run("evaluate", "--clean", tmp_path / "clean", "--enhanced", other)
    assert result.exit_code == 1 and "no clean reference" in result.output
