"""Data layouts, the 16 kHz cache, bad-file reports, crops/features and demo data."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from imse_keras.data import (
    VOICEBANK_DIRS,
    DataError,
    crop_pair,
    detect_layout,
    features,
    make_dataset,
    mix_source,
    pair_source,
    prepare_clean,
    prepare_pairs,
)


def _speechlike(n, rate, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    env = 0.5 * (1 + np.sin(2 * np.pi * 3 * t))
    return (0.3 * env * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(n)).astype("float32")


def _write_pair(root, name, rate=16000, seconds=0.5, seed=0, clean_dir="clean", noisy_dir="noisy"):
    c = _speechlike(int(rate * seconds), rate, seed)
    n = c + 0.05 * np.random.default_rng(seed + 1).standard_normal(c.shape).astype("float32")
    for d, x in ((clean_dir, c), (noisy_dir, n)):
        (root / d).mkdir(parents=True, exist_ok=True)
        sf.write(root / d / f"{name}.wav", x, rate, subtype="PCM_16")


def test_detect_layouts(tmp_path):
    vb = tmp_path / "vb"
    for d in VOICEBANK_DIRS["train"] + VOICEBANK_DIRS["test"]:
        (vb / d).mkdir(parents=True)
    lay = detect_layout(vb)
    assert lay.kind == "voicebank" and lay.val_clean.name == "clean_testset_wav"
    (tmp_path / "p" / "clean").mkdir(parents=True)
    (tmp_path / "p" / "noisy").mkdir()
    assert detect_layout(tmp_path / "p").kind == "paired"
    (tmp_path / "m" / "clean").mkdir(parents=True)
    (tmp_path / "m" / "noise").mkdir()
    assert detect_layout(tmp_path / "m").kind == "mix"
    with pytest.raises(DataError, match="no known layout"):
        detect_layout(tmp_path)


def test_48k_voicebank_is_resampled_once_and_cached(tmp_path):
    clean_dir, noisy_dir = VOICEBANK_DIRS["train"]
    for i in range(2):
        _write_pair(tmp_path, f"p232_{i:03d}", rate=48000, seed=i, clean_dir=clean_dir, noisy_dir=noisy_dir)
    cache = tmp_path / "cache"
    pairs, rep = prepare_pairs(tmp_path / clean_dir, tmp_path / noisy_dir, cache)
    assert rep.resampled == 4 and rep.cached == 0 and len(pairs) == 2
    for p in pairs:
        assert cache in p.clean.parents and sf.info(str(p.clean)).samplerate == 16000
        assert sf.info(str(p.noisy)).frames == 8000
    pairs2, rep2 = prepare_pairs(tmp_path / clean_dir, tmp_path / noisy_dir, cache)
    assert rep2.resampled == 0 and rep2.cached == 4
    assert pairs2 == pairs


def _bad_folder(root):
    _write_pair(root, "good", seed=1)
    _write_pair(root, "orphan", seed=2)
    (root / "noisy" / "orphan.wav").unlink()
    (root / "clean" / "broken.wav").write_bytes(b"not a wav at all")
    (root / "noisy" / "broken.wav").write_bytes(b"not a wav at all")
    _write_pair(root, "rate22k", rate=22050, seed=3)
    _write_pair(root, "silent", seed=4)
    sf.write(root / "clean" / "silent.wav", np.zeros(8000, "float32"), 16000)
    _write_pair(root, "short", seed=5)
    sf.write(root / "noisy" / "short.wav", _speechlike(7000, 16000, 5), 16000)


def test_bad_files_are_reported_by_name_and_skipped(tmp_path):
    _bad_folder(tmp_path)
    pairs, rep = prepare_pairs(tmp_path / "clean", tmp_path / "noisy", tmp_path / "cache")
    assert [p.name for p in pairs] == ["good"]
    reasons = {str(p).split("/")[-1]: r for p, r in rep.bad}
    assert set(reasons) == {"orphan.wav", "broken.wav", "rate22k.wav", "silent.wav", "short.wav"}
    assert "no partner" in reasons["orphan.wav"]
    assert "not a readable" in reasons["broken.wav"]
    assert "22050" in reasons["rate22k.wav"]
    assert "silent" in reasons["silent.wav"]
    assert "length" in reasons["short.wav"]
    assert rep.ok == 1 and "5 skipped" in rep.summary()


def test_fail_bad_raises_with_the_file_name(tmp_path):
    _bad_folder(tmp_path)
    with pytest.raises(DataError, match=r"broken\.wav"):
        prepare_pairs(tmp_path / "clean", tmp_path / "noisy", tmp_path / "cache", skip_bad=False)


def test_no_usable_files_raises(tmp_path):
    (tmp_path / "clean").mkdir()
    sf.write(tmp_path / "clean" / "a.wav", np.zeros(8000, "float32"), 16000)
    with pytest.raises(DataError, match="no usable"):
        prepare_clean(tmp_path / "clean", tmp_path / "cache")


def test_crop_pads_and_crops():
    rng = np.random.default_rng(0)
    c, n = np.arange(100, dtype="float32"), np.arange(100, dtype="float32") + 1
    cc, nn = crop_pair(c, n, 150, rng)
    assert cc.shape == (150,) and np.all(cc[100:] == 0) and np.all(nn[:100] == n)
    cc, nn = crop_pair(c, n, 40, rng)
    assert cc.shape == (40,) and np.all(nn - cc == 1) and np.all(np.diff(cc) == 1)


def test_features_use_the_noisy_norm_for_both():
    from imse_keras.config import get_config
    from imse_keras.dsp.stft import mag_pha_stft

    cfg = get_config("tiny")
    c = _speechlike(6300, 16000, 0)
    n = 3 * c + 0.1
    nm, npha, cm, cpha, com, wav = features(c, n, cfg)
    norm = np.sqrt(len(n) / np.sum(n.astype("float64") ** 2))
    np.testing.assert_allclose(wav, c * norm, rtol=1e-5)
    ref_m, ref_p = mag_pha_stft((n * norm).astype("float32"))  # torch's [F, T]
    np.testing.assert_allclose(nm, ref_m.T, rtol=1e-4, atol=1e-5)
    assert nm.shape == (64, 256) and com.shape == (64, 256, 2)
    np.testing.assert_allclose(com[..., 0], cm * np.cos(cpha), atol=1e-6)


def test_dataset_batches(tmp_path):
    for i in range(3):
        _write_pair(tmp_path, f"f{i}", seconds=0.3, seed=i)
    pairs, _ = prepare_pairs(tmp_path / "clean", tmp_path / "noisy", tmp_path / "cache")
    ds = make_dataset(pair_source(pairs, seed=0), "tiny", batch_size=2, segment_size=6300)
    (x_mag, x_pha), y = next(iter(ds))
    assert x_mag.shape == (2, 64, 256) and x_pha.shape == (2, 64, 256)
    assert y["com"].shape == (2, 64, 256, 2) and y["wav"].shape == (2, 6300)
    with pytest.raises(ValueError, match="divisible by 4"):
        make_dataset(pair_source(pairs), "tiny", segment_size=6000)


def test_mix_source_adds_noise(tmp_path):
    _write_pair(tmp_path, "a", seed=0)
    clean, _ = prepare_clean(tmp_path / "clean", tmp_path / "cache")
    noise_file = tmp_path / "noise.wav"
    sf.write(noise_file, np.random.default_rng(0).standard_normal(4000).astype("float32") * 0.1, 8000)
    gen = mix_source(clean, [noise_file, "hum"], snr_range=(0, 0), seed=0)()
    for _ in range(4):
        ex, _rng = next(gen)
        assert ex.clean.shape == ex.noisy.shape
        resid = ex.noisy - ex.clean
        snr = 10 * np.log10(np.sum(ex.clean.astype("float64") ** 2) / np.sum(resid.astype("float64") ** 2))
        assert abs(snr) < 0.5


def test_make_demo_data_cli_writes_voicebank_layout(tmp_path):
    from click.testing import CliRunner

    from imse_keras.cli.train import make_demo_data

    out = tmp_path / "demo"
    res = CliRunner().invoke(make_demo_data, ["-o", str(out), "--train-files", "2", "--test-files", "1"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lay = detect_layout(out)
    assert lay.kind == "voicebank" and lay.val_clean is not None
    names = sorted(p.name for p in lay.train_clean.iterdir())
    assert len(names) == 2 and names == sorted(p.name for p in lay.train_other.iterdir())
    pairs, rep = prepare_pairs(lay.train_clean, lay.train_other, tmp_path / "cache")
    assert rep.ok == 2 and not rep.bad
    # Reproducible: the same seed gives the same bytes.
    again = tmp_path / "again"
    CliRunner().invoke(make_demo_data, [str(again), "--train-files", "2", "--test-files", "1"])
    for a in lay.train_other.iterdir():
        assert a.read_bytes() == (again / VOICEBANK_DIRS["train"][1] / a.name).read_bytes()
