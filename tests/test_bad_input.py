"""Bad input gets one clear line and loses nothing (issue 12, items 1-10).

File-level tests run through :func:`imse_keras.streaming.enhance_file_streaming`, the path
``imse enhance`` takes, with an identity spectral backend (cheap, no TF);
CLI tests patch only the model loading.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from imse_keras.audio_io import AudioError, output_format, probe_audio, read_audio
from imse_keras.enhance import Enhancer
from imse_keras.cli.outputs import plan_outputs
from imse_keras.streaming import enhance_file_streaming as enhance_file

REPO = Path(__file__).resolve().parents[1]


def _identity(mag_c, pha):
    return mag_c, pha


@pytest.fixture
def enhancer():
    return Enhancer(_identity, "imse", batch_size=4)


def _speechy(n=20000, sr=16000, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    x = x[:, None] + 0.02 * rng.standard_normal((n, channels))
    return x.astype(np.float32)


def _flac_metadata_end(data: bytes) -> int:
    """Offset of the first audio frame of a FLAC file."""
    i = 4
    while True:
        last, length = data[i] & 0x80, int.from_bytes(data[i + 1 : i + 4], "big")
        i += 4 + length
        if last:
            return i


def flac_unknown_length(path: Path, x: np.ndarray, sr: int) -> Path:
    """A legal FLAC whose STREAMINFO says total_samples = 0 (length unknown)."""
    sf.write(path, x, sr, format="FLAC")
    data = bytearray(path.read_bytes())
    off = 8 + 10  # 'fLaC', block header, then STREAMINFO bytes 10..17
    word = int.from_bytes(data[off : off + 8], "big") & ~((1 << 36) - 1)
    data[off : off + 8] = word.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def flac_lost_sync(path: Path, x: np.ndarray, sr: int) -> Path:
    sf.write(path, x, sr, format="FLAC")
    data = bytearray(path.read_bytes())
    start = _flac_metadata_end(bytes(data))
    for i in range(start + 150, start + 550, 7):
        data[i] ^= 0x55
    path.write_bytes(bytes(data))
    return path


def flac_no_frames(path: Path, x: np.ndarray, sr: int) -> Path:
    """STREAMINFO claims len(x) frames; not one frame decodes."""
    sf.write(path, x, sr, format="FLAC")
    data = path.read_bytes()
    path.write_bytes(data[: _flac_metadata_end(data) + 3])
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- 1. decoding errors are AudioErrors; nothing written -----------------------


def test_corrupt_flac_is_one_audio_error_and_writes_nothing(enhancer, tmp_path):
    src = flac_lost_sync(tmp_path / "bad.flac", _speechy(), 16000)
    sf.info(src)  # the header is fine: only decoding finds the damage
    with pytest.raises(AudioError, match=r"bad.flac: cannot decode \(flac decoder lost sync"):
        read_audio(src)
    out = tmp_path / "out"
    with pytest.raises(AudioError, match="bad.flac: cannot decode"):
        enhance_file(enhancer, src, out / "bad.flac")
    assert _leftovers(out) == []


# --- 2. FLAC of unknown length -------------------------------------------------


def test_flac_of_unknown_length_is_enhanced_to_its_decoded_length(enhancer, tmp_path):
    x = _speechy(44100 * 2 + 17, sr=44100, channels=2)
    src = flac_unknown_length(tmp_path / "stream.flac", x, 44100)
    assert probe_audio(src).frames is None  # libsndfile has no length for it
    np.testing.assert_allclose(read_audio(src).samples, x, atol=1 / 32768)
    info = enhance_file(enhancer, src, tmp_path / "out.flac")
    got = read_audio(tmp_path / "out.flac")
    assert got.samples.shape == x.shape and got.sample_rate == 44100
    assert info["seconds"] == pytest.approx(len(x) / 44100)
    # Exactly what the same audio gives from a FLAC that states its length.
    sf.write(tmp_path / "known.flac", x, 44100)
    enhance_file(enhancer, tmp_path / "known.flac", tmp_path / "known_out.flac")
    np.testing.assert_array_equal(got.samples, read_audio(tmp_path / "known_out.flac").samples)


# --- 3. a file that decodes to nothing fails; no zeros passed off as a result --


def test_flac_with_no_decodable_frames_fails(enhancer, tmp_path):
    src = flac_no_frames(tmp_path / "hollow.flac", _speechy(4015), 16000)
    assert sf.info(src).frames == 4015  # what the header claims
    with pytest.raises(AudioError, match="hollow.flac: empty"):
        read_audio(src)
    with pytest.raises(AudioError, match="hollow.flac: empty"):
        enhance_file(enhancer, src, tmp_path / "o" / "hollow.flac")
    assert _leftovers(tmp_path / "o") == []


def test_truncated_wav_output_has_the_decoded_length(enhancer, tmp_path):
    src = tmp_path / "cut.wav"
    sf.write(src, _speechy(10000), 16000)
    data = src.read_bytes()
    src.write_bytes(data[: 44 + 2 * 6000])  # the header still claims 10000 frames
    n = read_audio(src).num_samples
    enhance_file(enhancer, src, tmp_path / "out.wav")
    assert read_audio(tmp_path / "out.wav").num_samples == n == 6000


# --- 4. the output container follows -o -----------------------------------------


@pytest.mark.parametrize(
    "src_name, src_subtype, dst_name, want_format, want_subtype",
    [
        ("a.wav", "PCM_16", "b.flac", "FLAC", "PCM_16"),
        ("a.wav", "FLOAT", "b.flac", "FLAC", "PCM_24"),  # FLAC has no float samples
        ("a.flac", "PCM_24", "b.wav", "WAV", "PCM_24"),
        ("a.wav", "FLOAT", "b.WAV", "WAV", "FLOAT"),
    ],
)
def test_output_container_follows_the_extension(enhancer, tmp_path, src_name, src_subtype,
                                                dst_name, want_format, want_subtype):
    src = tmp_path / src_name
    sf.write(src, _speechy(8000), 16000, subtype=src_subtype)
    pairs = plan_outputs([src], tmp_path / dst_name)
    assert pairs == [(src, tmp_path / dst_name)]
    enhance_file(enhancer, src, tmp_path / dst_name)
    info = sf.info(tmp_path / dst_name)
    assert (info.format, info.subtype, info.frames) == (want_format, want_subtype, 8000)


def test_wavex_stays_wavex_in_a_wav(tmp_path):
    assert output_format(tmp_path / "x.wav", "PCM_24", like="WAVEX") == ("WAVEX", "PCM_24")
    assert output_format(tmp_path / "x.flac", "PCM_24", like="WAVEX") == ("FLAC", "PCM_24")
    with pytest.raises(AudioError, match="x.mp3: cannot infer an audio format"):
        output_format(tmp_path / "x.mp3", "PCM_16")


# --- 5. MP3 and Ogg are refused in one line, without libmpg123 noise -------------


def _mp3(path: Path) -> Path:
    sf.write(path, _speechy(16000), 16000, format="MP3")
    return path


def test_mp3_and_ogg_inputs_are_refused_quietly(tmp_path, capfd):
    ogg = tmp_path / "o.ogg"
    sf.write(ogg, _speechy(8000), 16000, format="OGG")
    mp3 = _mp3(tmp_path / "m.mp3")
    disguised = tmp_path / "m.wav"
    disguised.write_bytes(mp3.read_bytes())
    capfd.readouterr()
    for path, name in ((ogg, "Ogg"), (mp3, "MP3"), (disguised, "MP3")):
        with pytest.raises(AudioError, match=rf"{path.name}: {name}.* is not supported \(WAV or FLAC"):
            read_audio(path)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # libmpg123 never got the file


@pytest.mark.parametrize("name", ["x.mp3", "x.ogg", "x.opus", "x.m4a"])
def test_unwritable_output_extensions_are_refused(tmp_path, name):
    src = tmp_path / "a.wav"
    sf.write(src, _speechy(4000), 16000)
    with pytest.raises(AudioError, match=f"{name}: cannot write"):
        plan_outputs([src], tmp_path / name)
    assert not (tmp_path / name).exists()  # no folder made either


# --- 6. absurd rates and very long files ----------------------------------------


@pytest.mark.parametrize("rate", [1, 3, 3999])
def test_rates_below_4khz_are_refused(enhancer, tmp_path, rate):
    src = tmp_path / "slow.wav"
    sf.write(src, np.zeros(4000, np.float32), rate)
    with pytest.raises(AudioError, match=f"slow.wav: sample rate {rate} Hz is outside 4000"):
        enhance_file(enhancer, src, tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()


def test_long_files_refused_with_their_cost(enhancer, tmp_path):
    src = tmp_path / "long.wav"
    sf.write(src, _speechy(16000 * 3, channels=2), 16000)  # 6 channel-seconds
    with pytest.raises(AudioError, match=r"long.wav: .* h of compute .*raise --max-minutes to 1"):
        enhance_file(enhancer, src, tmp_path / "out.wav", max_minutes=0.05)  # 3 s
    assert not (tmp_path / "out.wav").exists()
    enhance_file(enhancer, src, tmp_path / "out.wav", max_minutes=0.11)
    # Unknown length: refused after counting by decoding.
    flac = flac_unknown_length(tmp_path / "long.flac", _speechy(16000 * 3), 16000)
    with pytest.raises(AudioError, match="long.flac: .* h of compute"):
        enhance_file(enhancer, flac, tmp_path / "out.flac", max_minutes=0.02)
    assert not (tmp_path / "out.flac").exists()


# --- CLI: a batch continues, errors once, exit 1 with the count ------------------


class _IdentityModel:
    """Stands in for the Keras model: ``predict_on_batch`` returns its input."""

    def predict_on_batch(self, inputs):
        mag_c, pha = inputs
        return mag_c, pha, None


@pytest.fixture
def cli(monkeypatch):
    import imse_keras.cli as cli_module

    monkeypatch.setattr(cli_module.enhance, "load_model_or_exit", lambda *args, **kwargs: _IdentityModel())
    return cli_module.main


def test_batch_continues_past_bad_files_and_reports_each_once(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    flac_lost_sync(folder / "a_bad.flac", _speechy(), 16000)  # first: used to abort all
    flac_no_frames(folder / "b_hollow.flac", _speechy(4015), 16000)
    sf.write(folder / "c_good.wav", _speechy(12345), 16000)
    flac_unknown_length(folder / "d_stream.flac", _speechy(9000), 16000)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["enhance", str(folder), "-o", str(out), "-q"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    text = result.output
    assert "Traceback" not in text
    assert text.count("a_bad.flac") == 1 and text.count("b_hollow.flac") == 1, text
    assert "2 file(s) failed, of 4" in text
    assert _leftovers(out) == ["c_good.wav", "d_stream.flac"]
    assert sf.info(out / "c_good.wav").frames == 12345
    assert sf.info(out / "d_stream.flac").frames == 9000


def test_single_bad_file_is_one_line(cli, tmp_path):
    src = flac_lost_sync(tmp_path / "bad.flac", _speechy(), 16000)
    result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "b.wav")])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "bad.flac: cannot decode" in lines[0], result.output
    assert not (tmp_path / "b.wav").exists()


def test_cli_writes_the_container_o_names(cli, tmp_path):
    src = tmp_path / "a.wav"
    sf.write(src, _speechy(8000), 16000)
    result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "b.flac"), "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b.flac").read_bytes()[:4] == b"fLaC"
    result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "x.mp3")])
    assert result.exit_code == 1 and "cannot write MP3" in result.output
    assert not (tmp_path / "x.mp3").exists()


# --- 7. SIGTERM mid-batch leaves no temp file -----------------------------------


_SLOW_CLI = textwrap.dedent(
    """
    import sys, time
    import imse_keras.cli as cli
    from imse_keras.enhance import Enhancer

    def slow(mag_c, pha):
        time.sleep(0.3)
        return mag_c, pha

    cli.enhance.tflite_enhancer_or_exit = lambda *a, **k: Enhancer(slow, "imse", batch_size=1)
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def test_sigterm_mid_batch_leaves_no_temp_file(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name in ("a.wav", "b.wav"):
        sf.write(folder / name, _speechy(16000 * 20), 16000)  # 11 segments, ~3 s each
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_CLI, "enhance", str(folder), "-o", str(out), "-q",
         "--backend", "tflite", "--model", "unused.tflite"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(n.endswith(".tmp") for n in _leftovers(out)):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no temp file appeared"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert _leftovers(out) == [], _leftovers(out)


# --- 9. --weights missing.pt ----------------------------------------------------


def test_missing_weights_file_says_no_such_file(tmp_path):
    from imse_keras.weights.pretrained import WeightsNotFoundError, resolve_checkpoint

    with pytest.raises(WeightsNotFoundError, match="missing.pt: no such file"):
        resolve_checkpoint("missing.pt")
    with pytest.raises(WeightsNotFoundError, match="no such file"):
        resolve_checkpoint(str(tmp_path / "sub" / "w"))
    with pytest.raises(KeyError, match="unknown pretrained checkpoint 'g_best'"):
        resolve_checkpoint("g_best")  # a name, not a path: the names are listed


# --- 8. the checkpoint make demo finds in ../shared is cached ---------------------


def test_official_checkpoint_from_imse_weights_is_cached(monkeypatch, tmp_path, shared_dir):
    from imse_keras.weights.pretrained import cache_dir, resolve_checkpoint, sha256_file

    official = shared_dir / "official"
    if not (official / "g_best_pesq_3.399").is_file():
        pytest.skip(f"{official}/g_best_pesq_3.399 not found")
    monkeypatch.setenv("IMSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IMSE_WEIGHTS", str(official))  # what `make demo` exports
    assert resolve_checkpoint(allow_download=False) == official / "g_best_pesq_3.399"
    cached = cache_dir() / "g_best_pesq_3.399"
    assert sha256_file(cached) == sha256_file(official / "g_best_pesq_3.399")
    monkeypatch.delenv("IMSE_WEIGHTS")  # a later shell, offline
    assert resolve_checkpoint(allow_download=False) == cached


# --- 10. TF's load-time lines; the demo's timing ----------------------------------


_FAKE_TF = textwrap.dedent(
    """
    import os
    for _ in range(2):  # TF 2.21 writes them once per shared library
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\\n")
        os.write(2, b"I0000 00:00:1796117623.133603    7203 port.cc:153] oneDNN custom "
                    b"operations are on. You may see slightly different numerical results\\n")
    os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")  # LiteRT's
    os.write(2, b"W0000 00:00:1796117623.2    7203 cpu.cc:1] a warning\\n")
    os.write(2, b"E0000 00:00:1796117623.3    7203 cpu.cc:2] an error\\n")
    os.write(2, b"something else TF printed\\n")

    class _Threading:
        def set_intra_op_parallelism_threads(self, n): pass
        def set_inter_op_parallelism_threads(self, n): pass

    class _Optimizer:
        def set_experimental_options(self, options): pass

    class config:
        threading = _Threading()
        optimizer = _Optimizer()
    """
)


@pytest.mark.parametrize("level, kept", [("2", ["an error", "something else"]),
                                         ("1", ["a warning", "an error", "something else"]),
                                         ("0", None)])
def test_tensorflow_load_lines_follow_min_log_level(tmp_path, level, kept):
    (tmp_path / "tensorflow.py").write_text(_FAKE_TF)
    code = ("from imse_keras.runtime import configure_tensorflow; configure_tensorflow(); "
            "import sys; print('after', file=sys.stderr)")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=level,
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[-1] == "after"
    if kept is None:  # level 0: everything, as TF wrote it
        assert sum("oneDNN" in line for line in lines) == 2
    else:
        assert [next(k for k in kept if k in line) for line in lines[:-1]] == kept, lines


@pytest.mark.slow
def test_tensorflow_load_lines_hidden_under_min_log_level_2():
    code = "from imse_keras.runtime import configure_tensorflow; configure_tensorflow()"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "oneDNN" not in proc.stderr and "absl::InitializeLog" not in proc.stderr, proc.stderr


class _SlowFirstTraceModel:
    """Like a Keras model: the first call per input shape is slow (tracing)."""

    def __init__(self, trace_seconds):
        self.trace_seconds, self.seen = trace_seconds, set()

    def predict_on_batch(self, inputs):
        mag_c, pha = inputs
        if mag_c.shape not in self.seen:
            self.seen.add(mag_c.shape)
            time.sleep(self.trace_seconds)
        return mag_c, pha, None


def test_demo_real_time_factor_excludes_warm_up(monkeypatch, tmp_path):
    import imse_keras.weights.load as load_module
    from imse_keras.cli.demo import run_demo

    model = _SlowFirstTraceModel(trace_seconds=2.0)
    name = "load_pretrained" if hasattr(load_module, "load_pretrained") else "load_model"
    monkeypatch.setattr(load_module, name, lambda *a, **k: model)
    noisy = tmp_path / "noisy.wav"
    sf.write(noisy, _speechy(16000 * 5), 16000)  # 3 segments: a batch of 3
    result = run_demo(tmp_path / "demo", noisy=noisy, echo=lambda *a: None)
    # Tracing inside the timed run would add 2 s to 5 s of audio (RTF >= 0.4).
    assert result["real_time_factor"] < 0.2, result
    assert read_audio(result["enhanced"]).num_samples == 16000 * 5


# --- found by the fuzzer ---------------------------------------------------------


def test_too_many_channels_refused(enhancer, tmp_path):
    src = tmp_path / "wide.wav"
    sf.write(src, np.zeros((100, 65), np.float32), 16000)
    with pytest.raises(AudioError, match="wide.wav: 65 channels; 1 to 64"):
        enhance_file(enhancer, src, tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_non_finite_result_is_refused_not_written(enhancer, tmp_path):
    src = tmp_path / "loud.wav"
    peak = np.finfo(np.float32).max  # legal float32 samples; the output overflows to inf
    x = (np.sign(np.sin(np.arange(8000) / 5)) * peak).astype(np.float32)
    sf.write(src, x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="loud.wav: enhancing it gave NaN/inf"):
        enhance_file(enhancer, src, tmp_path / "out.wav")
    assert _leftovers(tmp_path) == ["loud.wav"]


def test_flac_output_that_flac_cannot_hold_says_so(enhancer, tmp_path):
    src = tmp_path / "many.wav"
    sf.write(src, _speechy(4000, channels=10), 16000)
    with pytest.raises(AudioError, match=r"out.flac: FLAC cannot hold 10 channel\(s\).*try .wav"):
        enhance_file(enhancer, src, tmp_path / "out.flac")
    assert _leftovers(tmp_path) == ["many.wav"]


# --- 11. the LiteRT path imports no TensorFlow ------------------------------------


def test_tflite_path_imports_no_tensorflow(tmp_path):
    src = tmp_path / "a.wav"
    sf.write(src, _speechy(4000), 16000)
    code = textwrap.dedent(
        f"""
        import sys
        from click.testing import CliRunner
        import ai_edge_litert.interpreter  # what LiteRTModel runs on
        from imse_keras.cli import main
        result = CliRunner().invoke(main, ["enhance", {str(src)!r}, "-o", {str(tmp_path / 'b.wav')!r},
                                           "--model", {str(tmp_path / 'absent.tflite')!r}])
        print(result.exit_code, "tensorflow" in sys.modules, "keras" in sys.modules)
        print(result.output)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
    first, *rest = proc.stdout.splitlines()
    assert first == "1 False False", proc.stdout + proc.stderr
    assert "absent.tflite" in "\n".join(rest)  # --model alone chose the LiteRT backend


def test_write_error_mid_file_keeps_the_old_output_and_no_temp(enhancer, tmp_path, monkeypatch):
    src = tmp_path / "a.wav"
    sf.write(src, _speechy(16000 * 5), 16000)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.wav").write_bytes(b"previous result")
    calls = []

    def full_disk(self, data):
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return original(self, data)

    original = sf.SoundFile.write
    monkeypatch.setattr(sf.SoundFile, "write", full_disk)
    with pytest.raises(AudioError, match=r"out/a.wav: could not write audio .*No space left"):
        enhance_file(enhancer, src, out / "a.wav")
    assert len(calls) > 1  # it failed part-way, not before writing
    assert _leftovers(out) == ["a.wav"] and (out / "a.wav").read_bytes() == b"previous result"


def test_cli_missing_weights_file_says_no_such_file(tmp_path):
    from imse_keras.cli import main

    src = tmp_path / "a.wav"
    sf.write(src, _speechy(4000), 16000)
    result = CliRunner().invoke(main, ["enhance", str(src), "-o", str(tmp_path / "b.wav"),
                                       "--weights", "missing.pt", "--no-download"])
    assert result.exit_code == 1
    assert "missing.pt: no such file" in result.output, result.output
    assert "unknown pretrained checkpoint" not in result.output
