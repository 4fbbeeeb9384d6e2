"""load_pretrained: official checkpoints, the converted-weights cache, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from imse_keras.model import build_model
from imse_keras.weights.load import load_pretrained
from imse_keras.weights.pretrained import WeightsNotFoundError
from imse_keras.weights.torch_checkpoint import CheckpointError


def _assert_same_weights(a, b):
    """Every variable, by path, bit-identical (what a cache hit must give)."""
    wa = {v.path: v.numpy() for v in a.weights}
    wb = {v.path: v.numpy() for v in b.weights}
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)


def test_conversion_is_cached_by_checksum(official_checkpoint, official_model, tmp_path, monkeypatch):
    monkeypatch.setenv("IMSE_CACHE_DIR", str(tmp_path))
    first = load_pretrained(official_checkpoint)
    cached = list((tmp_path / "converted").glob("*.weights.h5"))
    assert len(cached) == 1 and cached[0].name.startswith("c8e21c89fba61c2a")
    _assert_same_weights(first, official_model)  # converted without the cache
    stamp = cached[0].stat().st_mtime_ns
    second = load_pretrained(official_checkpoint)
    assert cached[0].stat().st_mtime_ns == stamp  # read, not rewritten
    _assert_same_weights(first, second)
    # A damaged cache entry is rebuilt from the checkpoint, not trusted.
    cached[0].write_bytes(b"garbage")
    third = load_pretrained(official_checkpoint)
    _assert_same_weights(first, third)
    assert cached[0].read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # rewritten as HDF5
    # A stale entry (valid HDF5 of other layers: Keras would only warn and keep
    # random weights for what it cannot place) is rebuilt too.
    build_model("tiny").save_weights(cached[0])
    fourth = load_pretrained(official_checkpoint)
    _assert_same_weights(first, fourth)


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
    _assert_same_weights(model, loaded)


@pytest.mark.parametrize("other", ["imse", "sequential"])
def test_keras_weights_of_other_layers_are_refused(tmp_path, other):
    """Keras addresses .weights.h5 entries by layer position and class; a file of
    other layers must be an error, not a model left partly at its random init."""
    import keras

    if other == "sequential":
        source = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    else:
        source = build_model(other)
    path = tmp_path / f"{other}.weights.h5"
    source.save_weights(path)
    with pytest.raises(CheckpointError, match="fit|cannot load"):
        load_pretrained(path, preset="tiny")


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
