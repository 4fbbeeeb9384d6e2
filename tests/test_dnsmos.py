"""DNSMOS (reference-free quality): ranks clean above noisy; a clear message
when the ``quality`` extra is missing; the folder evaluation and CLI helper."""

from __future__ import annotations

import sys

import click
import numpy as np
import pytest
import soundfile as sf

from imse_keras.quality import MissingExtraError, dnsmos_scores, evaluate_no_reference


def _pair():
    from imse_keras.synth import SynthesisError, make_pair

    try:
        return make_pair(seed=0, snr_db=0, noise="white")
    except SynthesisError as err:
        pytest.skip(f"eSpeak NG not available: {err}")


@pytest.fixture(scope="module")
def dnsmos_installed():
    for name in ("speechmos", "onnxruntime", "librosa"):
        pytest.importorskip(name)


@pytest.fixture(scope="module")
def pair_scores(dnsmos_installed):
    clean, noisy = _pair()
    return dnsmos_scores(clean), dnsmos_scores(noisy)


def test_clean_scores_higher_than_noisy(pair_scores):
    clean, noisy = pair_scores
    assert set(clean) == {"sig", "bak", "ovrl", "p808"}
    for scores in (clean, noisy):
        assert all(1.0 <= v <= 5.0 for v in scores.values()), scores
    # White noise at 0 dB: the background and overall scores must drop clearly.
    assert clean["ovrl"] > noisy["ovrl"] + 0.5
    assert clean["bak"] > noisy["bak"] + 1.0
    assert clean["p808"] > noisy["p808"]


def test_input_validation(dnsmos_installed):
    with pytest.raises(ValueError, match="16 kHz"):
        dnsmos_scores(np.zeros(16000, np.float32), sample_rate=8000)
    with pytest.raises(ValueError, match="1-D"):
        dnsmos_scores(np.zeros((2, 16000), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        dnsmos_scores(np.full(16000, np.nan, np.float32))


@pytest.mark.parametrize("module", ["onnxruntime", "librosa", "speechmos.dnsmos"])
def test_missing_extra_names_the_pip_extra(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(MissingExtraError, match=r'imse-keras\[quality\]') as info:
        dnsmos_scores(np.zeros(16000, np.float32))
    assert info.value.extra == "quality"
    assert isinstance(info.value, ImportError)


def test_evaluate_no_reference_folder(tmp_path, dnsmos_installed):
    clean, noisy = _pair()
    sf.write(tmp_path / "a_clean.wav", clean, 16000)
    sf.write(tmp_path / "b_noisy.wav", noisy, 16000)
    rows, mean = evaluate_no_reference([tmp_path])
    assert [r["file"] for r in rows] == ["a_clean.wav", "b_noisy.wav"]
    assert rows[0]["ovrl"] > rows[1]["ovrl"]
    assert mean["n"] == 2
    assert mean["ovrl"] == pytest.approx((rows[0]["ovrl"] + rows[1]["ovrl"]) / 2)


def test_cli_helper_missing_extra_is_one_line(tmp_path, monkeypatch):
    from imse_keras.cli.evaluate import run_no_reference

    sf.write(tmp_path / "x.wav", np.zeros(16000, np.float32), 16000)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(click.ClickException) as info:
        run_no_reference(tmp_path)
    message = info.value.format_message()
    assert "\n" not in message and "imse-keras[quality]" in message


def test_cli_helper_prints_table_and_json(tmp_path, dnsmos_installed, capsys):
    import json

    from imse_keras.cli.evaluate import run_no_reference

    clean, _ = _pair()
    sf.write(tmp_path / "x.wav", clean, 16000)
    out = tmp_path / "scores.json"
    rows, mean = run_no_reference(tmp_path, json_path=out, quiet=True)
    printed = capsys.readouterr().out
    assert "ovrl" in printed and "x.wav" in printed and "mean" in printed
    payload = json.loads(out.read_text())
    assert payload["files"][0]["file"] == "x.wav"
    assert payload["mean"]["ovrl"] == pytest.approx(mean["ovrl"])
