"""Peers and the comparison table: a missing peer is skipped with a message,
RNNoise's delay is compensated, and ``imse compare`` runs end to end."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from imse_keras.compare import compare_pairs, format_compare_table
from imse_keras.metrics.evaluate import pair_files
from imse_keras.metrics import score_pair
from imse_keras.peers import (
    PeerUnavailable,
    imse_keras_peer,
    imse_tflite_peer,
    load_peers,
    noisy_peer,
)


@pytest.fixture(scope="module")
def pair_dirs(tmp_path_factory):
    """Two synthetic (clean, noisy) files, 4-6 s each, in ``clean/`` and ``noisy/``."""
    from imse_keras.synth import SynthesisError, make_pair

    root = tmp_path_factory.mktemp("pairs")
    (root / "clean").mkdir()
    (root / "noisy").mkdir()
    for seed in (0, 1):
        try:
            clean, noisy = make_pair(seed=seed, snr_db=5, noise="white")
        except SynthesisError as err:
            pytest.skip(f"eSpeak NG not available: {err}")
        sf.write(root / "clean" / f"u{seed}.wav", clean, 16000)
        sf.write(root / "noisy" / f"u{seed}.wav", noisy, 16000)
    return root / "clean", root / "noisy"


@pytest.fixture
def cli():
    import click

    from imse_keras.cli import compare, report

    group = click.Group(commands={"compare": compare.compare, "report": report.report})
    return lambda args: CliRunner().invoke(group, args, catch_exceptions=False)


def test_missing_peer_is_skipped_with_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "noisereduce", None)
    peers, skipped = load_peers(["noisy", "noisereduce"])
    assert [p.name for p in peers] == ["noisy"]
    assert "noisereduce" in skipped and "imse-keras[peers]" in skipped["noisereduce"]


def test_unknown_peer_name():
    with pytest.raises(ValueError, match="unknown peer"):
        load_peers(["deepfilternet"])


def test_missing_tflite_is_unavailable(tmp_path):
    with pytest.raises(PeerUnavailable, match="not found"):
        imse_tflite_peer(tmp_path / "absent.tflite")


def test_rnnoise_delay_is_compensated():
    pytest.importorskip("pyrnnoise")
    from imse_keras.peers import rnnoise_peer
    from imse_keras.synth import SynthesisError, make_pair

    try:
        clean, noisy = make_pair(seed=0, snr_db=10, noise="white")
    except SynthesisError as err:
        pytest.skip(f"eSpeak NG not available: {err}")
    y = rnnoise_peer()(noisy)
    assert y.shape == noisy.shape and y.dtype == np.float32
    # Cross-correlation with the clean speech; uncompensated, the peak sits at
    # +320 samples (20 ms).
    xc = np.fft.irfft(np.fft.rfft(y) * np.conj(np.fft.rfft(clean)), n=clean.size)
    window = np.concatenate([xc[-1000:], xc[:1001]])
    lag = int(np.argmax(window)) - 1000
    assert abs(lag) <= 2, lag


def test_compare_pairs_identity_and_model(pair_dirs, tiny_model):
    pairs = pair_files(*pair_dirs)
    peers = [noisy_peer(), imse_keras_peer(tiny_model, preset="tiny", name="tiny")]
    results = compare_pairs(pairs, peers, dnsmos=False)
    assert [r.name for r in results] == ["noisy", "tiny"]
    noisy = results[0]
    clean0, noisy0 = (sf.read(p, dtype="float32")[0] for p in pairs[0])
    assert noisy.rows[0]["pesq"] == pytest.approx(score_pair(clean0, noisy0)["pesq"])
    assert noisy.mean["n"] == 2
    for r in results:
        assert r.audio_seconds > 8 and r.rtf >= 0
    assert results[1].params == tiny_model.count_params()
    table = format_compare_table(results, {"rnnoise": "not installed"})
    lines = table.splitlines()
    assert lines[0].startswith("| system | PESQ-WB | STOI |") and "RTF" in lines[0]
    assert lines[2].startswith("| noisy |") and lines[3].startswith("| tiny |")
    assert "skipped rnnoise: not installed" in table
    assert "DNSMOS" not in lines[0]  # not scored


def test_cli_compare_skips_missing_peer(pair_dirs, cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "noisereduce", None)
    clean, noisy = pair_dirs
    md = tmp_path / "table.md"
    result = cli(["compare", "--clean", str(clean), "--noisy", str(noisy),
                  "--peers", "noisy,noisereduce", "--no-imse", "--no-dnsmos", "--limit", "1",
                  "-q", "-o", str(md)])
    assert result.exit_code == 0, result.output
    assert "skipping noisereduce:" in result.output
    assert "Traceback" not in result.output
    assert "| noisy |" in result.output and md.read_text().startswith("| system |")


def test_cli_compare_usage_errors(pair_dirs, cli, tmp_path):
    clean, noisy = pair_dirs
    result = cli(["compare", "--clean", str(clean), "--noisy", str(noisy), "--peers", "foo"])
    assert result.exit_code == 2 and "unknown peer 'foo'" in result.output
    result = cli(["compare", "--clean", str(clean), "--noisy", str(tmp_path / "absent"),
                  "--no-imse"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1


def test_cli_peer_choices_match_registry():
    from imse_keras.cli.compare import PEER_CHOICES
    from imse_keras.peers import BASELINES

    assert tuple(BASELINES) == PEER_CHOICES


@pytest.mark.slow
def test_official_imse_beats_baselines_on_vb_dev(shared_dir, official_model):
    """Three VoiceBank files: IMSE ranks above the unprocessed input and RNNoise."""
    pytest.importorskip("pyrnnoise")
    from imse_keras.peers import rnnoise_peer

    vb = shared_dir / "audio" / "vb_dev"
    pairs = pair_files(vb / "clean", vb / "noisy")[:3]
    results = compare_pairs(pairs, [noisy_peer(), rnnoise_peer(), imse_keras_peer(official_model)],
                            dnsmos=False)
    pesq = {r.name: r.mean["pesq"] for r in results}
    assert pesq["imse-keras"] > pesq["rnnoise"] + 0.5
    assert pesq["imse-keras"] > pesq["noisy"] + 0.5


def test_table_has_cost_columns(pair_dirs):
    from imse_keras.peers import Peer

    pairs = pair_files(*pair_dirs)[:1]
    peers = [noisy_peer(), Peer("half", lambda x: 0.5 * x, size_bytes=2000, params=1500,
                                macs_per_second=2.5e9, latency_ms=32.0, note="scaled")]
    results = compare_pairs(pairs, peers, dnsmos=False)
    assert results[1].cpu_seconds >= 0 and results[1].cpu_rtf >= 0
    table = format_compare_table(results, notes=True)
    header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
    assert header[-6:] == ["GMAC/s", "params", "latency", "RTF CPU", "RTF wall", "size"]
    row = [c.strip() for c in table.splitlines()[3].strip("|").split("|")]
    assert row[0] == "half" and row[-6:-3] == ["2.50", "1.5 K", "32 ms"] and row[-1] == "2.0 kB"
    assert "- `half`: scaled" in table


def test_cli_peer_usage_errors(pair_dirs, cli):
    clean, noisy = pair_dirs
    base = ["compare", "--clean", str(clean), "--noisy", str(noisy), "--no-imse", "--peers", ""]
    for args, message in (
        (["--peer", "=x.onnx"], "expected NAME=PATH.onnx"),
        (["--peer", "a=x.onnx", "--peer", "a=y.onnx"], "given twice"),
        (["--peer", "a=x.onnx", "--peer-stft", "b=512,256"], "for a NAME given with --peer"),
        (["--peer", "a=x.onnx", "--peer-stft", "a=512"], "N_FFT,HOP"),
    ):
        result = cli(base + args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_cli_compare_onnx_peer(shared_dir, cli, tmp_path):
    """One vb_dev file through ``--peer``: FastEnhancer-T recognised, a missing
    model skipped with its reason, GMAC/s and params in the table and JSON."""
    import json

    pytest.importorskip("onnxruntime")
    model = shared_dir / "peers" / "fastenhancer_t.spec.onnx"
    vb = shared_dir / "audio" / "vb_dev"
    if not model.is_file() or not vb.is_dir():
        pytest.skip("../shared/peers or ../shared/audio/vb_dev not found")
    out = tmp_path / "c.json"
    result = cli(["compare", "--clean", str(vb / "clean"), "--noisy", str(vb / "noisy"),
                  "--peers", "noisy", "--no-imse", "--no-dnsmos", "--limit", "1", "-q",
                  "--peer", f"FE-T={model}", "--peer", f"gone={tmp_path / 'gone.onnx'}",
                  "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "skipping gone:" in result.output and "ONNX model not found" in result.output
    assert "| FE-T |" in result.output
    fe = json.loads(out.read_text())["systems"][1]
    assert fe["name"] == "FE-T" and "FastEnhancer-T" in fe["note"]
    assert fe["macs_per_second"] == pytest.approx(0.06e9, rel=0.05) and fe["params"] > 20000
    assert fe["mean"]["pesq"] > json.loads(out.read_text())["systems"][0]["mean"]["pesq"]
