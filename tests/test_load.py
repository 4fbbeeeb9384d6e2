"""load_pretrained: official checkpoints, the converted-weights cache, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from imse_keras.model import build_model
from imse_keras.weights.load import load_pretrained
from imse_keras.weights.pretrained import WeightsNotFoundError
from imse_keras.weights.torch_checkpoint import CheckpointError


def _out(model, t=8):
    x = np.random.default_rng(0).random((1, 256, t)).astype("float32")
    return model.predict([x, x], verbose=0)[0]


def test_conversion_is_cached_by_checksum(official_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("IMSE_CACHE_DIR", str(tmp_path))
    first = load_pretrained(official_checkpoint)
    cached = list((tmp_path / "converted").glob("*.weights.h5"))
    assert len(cached) == 1 and cached[0].name.startswith("c8e21c89fba61c2a")
    second = load_pretrained(official_checkpoint)
    np.testing.assert_array_equal(_out(first), _out(second))
    # A damaged cache entry is rebuilt from the checkpoint, not trusted.
    cached[0].write_bytes(b"garbage")
    third = load_pretrained(official_checkpoint)
    np.testing.assert_array_equal(_out(first), _out(third))


def test_imse_weights_env_folder(shared_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("IMSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("IMSE_WEIGHTS", str(shared_dir / "official"))
    model = load_pretrained("3.373", allow_download=False)
    assert model.count_params() == 432_995


def test_keras_weights_file(tmp_path):
    model = build_model("tiny")
    for v in model.weights:
        v.assign(np.full(v.shape, 0.01, "float32"))
    path = tmp_path / "tiny.weights.h5"
    model.save_weights(path)
    loaded = load_pretrained(path, preset="tiny")
    np.testing.assert_array_equal(_out(model), _out(loaded))


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "g_best.pt"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError):
        load_pretrained(bad)


def test_no_download_without_local_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("IMSE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("IMSE_WEIGHTS", raising=False)
    with pytest.raises(WeightsNotFoundError, match="--weights"):
        load_pretrained(None, allow_download=False)


def test_missing_keras_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_pretrained(tmp_path / "nope.weights.h5", preset="tiny")
