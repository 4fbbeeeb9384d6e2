"""Torch state_dict -> Keras mapping: strict in both directions, any preset."""

from __future__ import annotations

import numpy as np
import pytest

from imse_keras.config import get_config
from imse_keras.layers.mala import rope_angles
from imse_keras.model import build_model
from imse_keras.weights.convert import (
    WeightMappingError,
    _conv,
    _dwconv,
    load_torch_weights,
    torch_to_keras_mapping,
)


def _to_torch(value: np.ndarray, transform, key: str) -> np.ndarray:
    """Invert the mapping's layout transform (Keras -> torch layout)."""
    if transform is _conv:
        return np.transpose(value, (3, 2, 0, 1))
    if transform is _dwconv:
        return np.transpose(value, (2, 3, 0, 1))
    if key.endswith("lsigmoid.slope"):
        return value.reshape(-1, 1)
    return value.reshape(-1) if value.ndim > 1 else value


def _torch_state_from(model, cfg) -> dict[str, np.ndarray]:
    """A state_dict in the official layout holding ``model``'s weights."""
    state = {
        key: _to_torch(np.asarray(var.numpy()), tr, key)
        for key, var, tr in torch_to_keras_mapping(model, cfg)
    }
    return state


@pytest.fixture(scope="module")
def tiny():
    cfg = get_config("tiny")
    rng = np.random.default_rng(0)
    source = build_model(cfg)
    for var in source.weights:
        var.assign(rng.normal(0, 0.2, var.shape).astype("float32"))
    return cfg, source, _torch_state_from(source, cfg)


def test_round_trip_reproduces_outputs(tiny):
    cfg, source, state = tiny
    target = build_model(cfg)
    n = load_torch_weights(target, state, cfg)
    assert n == source.count_params()
    x = np.random.default_rng(1).random((1, 12, cfg.num_freqs)).astype("float32")
    for a, b in zip(source.predict([x, x], verbose=0), target.predict([x, x], verbose=0)):
        np.testing.assert_array_equal(a, b)


def test_every_variable_mapped_exactly_once(tiny):
    cfg, source, _ = tiny
    entries = torch_to_keras_mapping(source, cfg)
    ids = [id(var) for _, var, _ in entries]
    assert len(ids) == len(set(ids)) == len(source.weights)
    assert len({k for k, _, _ in entries}) == len(entries)


def test_missing_key_is_reported(tiny):
    cfg, _, state = tiny
    broken = dict(state)
    key = sorted(broken)[5]
    del broken[key]
    with pytest.raises(WeightMappingError, match="1 missing"):
        load_torch_weights(build_model(cfg), broken, cfg)


def test_unexpected_key_is_reported(tiny):
    cfg, _, state = tiny
    with pytest.raises(WeightMappingError, match="1 unexpected.*extra.weight"):
        load_torch_weights(build_model(cfg), {**state, "extra.weight": np.zeros(3)}, cfg)


def test_shape_mismatch_is_reported_and_nothing_assigned(tiny):
    cfg, _, state = tiny
    key = next(k for k in state if k.endswith("mala.qkvo.weight"))
    broken = {**state, key: np.zeros((3, 3, 1, 1), np.float32)}
    target = build_model(cfg)
    before = [v.numpy().copy() for v in target.weights]
    with pytest.raises(WeightMappingError, match="Shape mismatch"):
        load_torch_weights(target, broken, cfg)
    for b, v in zip(before, target.weights):
        np.testing.assert_array_equal(b, v.numpy())


def test_rope_buffers_are_checked(tiny):
    cfg, _, state = tiny
    good = {**state, "x.rope.angle": rope_angles()}
    load_torch_weights(build_model(cfg), good, cfg)
    bad = {**state, "x.rope.angle": rope_angles() * 2}
    with pytest.raises(WeightMappingError, match="RoPE"):
        load_torch_weights(build_model(cfg), bad, cfg)


def test_official_checkpoint_does_not_fit_other_presets(official_checkpoint):
    from imse_keras.weights.torch_checkpoint import load_torch_state_dict

    state = load_torch_state_dict(official_checkpoint)
    for preset in ("imse_paper", "tiny"):
        cfg = get_config(preset)
        with pytest.raises(WeightMappingError, match="does not match"):
            load_torch_weights(build_model(cfg), state, cfg)


def test_official_checkpoint_maps_all_479_tensors(official_checkpoint):
    from imse_keras.weights.torch_checkpoint import load_torch_state_dict

    state = load_torch_state_dict(official_checkpoint)
    params = {k: v for k, v in state.items() if not k.endswith("rope.angle")}
    assert len(params) == 479
    cfg = get_config("imse")
    model = build_model(cfg)
    assert load_torch_weights(model, state, cfg) == 432_995
    assert {k for k, _, _ in torch_to_keras_mapping(model, cfg)} == set(params)
