"""The one test harness every custom layer goes through (STYLE.md rule 7).

:func:`run_layer_test` checks, for one layer class and one set of constructor
arguments:

1. construction validates its arguments (bad ones raise ``ValueError`` whose
   message says what was received);
2. an eager call on seeded random data has the expected shape, and
   ``compute_output_shape`` agrees;
3. a symbolic call (``keras.KerasTensor`` with ``None`` batch and time axes) on a
   fresh instance, and a ``tf.function`` trace of the built layer's ops, give the
   same shape with those axes unknown;
4. ``get_config`` survives ``json.dumps``/``json.loads``, names every constructor
   argument, and ``from_config`` rebuilds a layer with the same config that, with
   the weights copied over, computes the same output;
5. wrapped in a functional model with dynamic axes, the layer saves to ``.keras``
   and loads back as the same class with the same outputs, also at a batch and
   time length it has not seen.

Weights are perturbed away from their initialisers first so that ones/zeros
initialisers (norm scales, biases, slopes) cannot hide a weight that fails to
round-trip.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np
import pytest
import tensorflow as tf

Shape = tuple
__all__ = ["run_layer_test", "random_inputs"]


def _shapes(input_shape) -> list[Shape]:
    if isinstance(input_shape, list):
        return [tuple(s) for s in input_shape]
    return [tuple(input_shape)]


def _pack(xs: Sequence, multi: bool):
    return list(xs) if multi else xs[0]


def _with_none(shape: Shape, axes: Sequence[int]) -> Shape:
    return tuple(None if i in axes else d for i, d in enumerate(shape))


def _grown(shape: Shape, axes: Sequence[int]) -> Shape:
    """A new concrete shape along the dynamic axes: batch + 1, other axes doubled.

    Doubling keeps any divisibility a layer needs (pixel (un)shuffle factors).
    """
    return tuple(
        (d + 1 if i == 0 else 2 * d) if i in axes else d for i, d in enumerate(shape)
    )


def random_inputs(shapes: Sequence[Shape], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _perturb_weights(layer: keras.layers.Layer, seed: int) -> None:
    rng = np.random.default_rng(seed + 1000)
    layer.set_weights(
        [w + rng.normal(0.0, 0.1, w.shape).astype(w.dtype) for w in layer.get_weights()]
    )


def _json_config(layer: keras.layers.Layer) -> dict:
    return json.loads(json.dumps(layer.get_config()))


def run_layer_test(
    layer_cls: type,
    init_kwargs: dict[str, Any],
    input_shape,
    expected_output_shape: Shape,
    *,
    tmp_path: Path,
    dynamic_axes: Sequence[int] = (0, 1),
    bad_kwargs: Sequence[dict[str, Any]] = (),
    seed: int = 0,
    atol: float = 1e-6,
) -> keras.layers.Layer:
    """Run every generic check on ``layer_cls(**init_kwargs)``; return the built layer.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        input_shape: one concrete input shape (tuple), or a list of them for a
            layer called on a list of tensors.
        expected_output_shape: the concrete output shape.
        tmp_path: where the ``.keras`` file goes.
        dynamic_axes: input axes that may be ``None`` symbolically and change
            between calls; the output has the same axes unknown.
        bad_kwargs: constructor-argument overrides that must raise ``ValueError``.
        seed: for inputs and weight perturbations.
        atol: tolerance of the saved-and-loaded model's outputs.
    """
    multi = isinstance(input_shape, list)
    shapes = _shapes(input_shape)
    expected_output_shape = tuple(expected_output_shape)
    expected_symbolic = _with_none(expected_output_shape, dynamic_axes)
    symbolic_shapes = [_with_none(s, dynamic_axes) for s in shapes]

    # --- 1. Argument validation -------------------------------------------------------
    for bad in bad_kwargs:
        with pytest.raises(ValueError, match="Received"):
            layer_cls(**{**init_kwargs, **bad})

    # --- 2. Eager call and compute_output_shape ----------------------------------------
    layer = layer_cls(**init_kwargs)
    xs = random_inputs(shapes, seed)
    layer(_pack(xs, multi))  # builds
    assert layer.built
    _perturb_weights(layer, seed)
    y = keras.ops.convert_to_numpy(layer(_pack(xs, multi)))
    assert y.shape == expected_output_shape, (y.shape, expected_output_shape)
    assert np.all(np.isfinite(y))
    assert tuple(layer.compute_output_shape(_pack(shapes, multi))) == expected_output_shape

    # --- 3. Symbolic shapes with unknown batch / time ----------------------------------
    fresh = layer_cls(**init_kwargs)
    sym_in = [keras.KerasTensor(s) for s in symbolic_shapes]
    sym_out = fresh(_pack(sym_in, multi))
    assert isinstance(sym_out, keras.KerasTensor)
    assert tuple(sym_out.shape) == expected_symbolic, (sym_out.shape, expected_symbolic)
    assert tuple(fresh.compute_output_shape(_pack(symbolic_shapes, multi))) == expected_symbolic
    # Keras answers symbolic calls from compute_output_shape; a trace of the real
    # ops checks that call() agrees with it.
    specs = [tf.TensorSpec(s, tf.float32) for s in symbolic_shapes]
    traced = tf.function(lambda *a: layer(_pack(a, multi))).get_concrete_function(*specs)
    traced_shape = tuple(traced.structured_outputs.shape.as_list())
    # Static dims lost here reach the next layer as None inside tf.function
    # (model.predict, TFLite export); layers that read x.shape[2] then fail.
    assert traced_shape == expected_symbolic, (
        f"call() traced with input shapes {symbolic_shapes} gives static shape "
        f"{traced_shape}, compute_output_shape says {expected_symbolic}"
    )

    # --- 4. Config: JSON round trip, from_config, same weights -> same output ---------
    config = _json_config(layer)
    # Arguments the class itself adds (keras.layers.Layer's own are its business).
    own_init = layer_cls.__dict__.get("__init__")
    ctor_args = [
        name
        for name, p in (inspect.signature(own_init).parameters.items() if own_init else ())
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    missing = [a for a in ctor_args if a not in config]
    assert not missing, f"get_config() lacks constructor arguments {missing}"
    clone = layer_cls.from_config(config)
    assert _json_config(clone) == config
    clone(_pack(xs, multi))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(_pack(xs, multi))), y)

    # --- 5. .keras save / load in a functional model with dynamic axes -----------------
    inputs = [keras.Input(batch_shape=s, name=f"in{i}") for i, s in enumerate(symbolic_shapes)]
    model = keras.Model(_pack(inputs, multi), layer(_pack(inputs, multi)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(_pack(xs, multi))), y, atol=1e-6)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.get_layer(layer.name)) is layer_cls
    assert len(loaded.weights) == len(model.weights)
    for w0, w1 in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(w0), keras.ops.convert_to_numpy(w1)
        )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(_pack(xs, multi))), y, rtol=0, atol=atol
    )
    # A batch and length never seen before: no rebuild, same numbers as the layer.
    xs2 = random_inputs([_grown(s, dynamic_axes) for s in shapes], seed + 1)
    y2 = keras.ops.convert_to_numpy(layer(_pack(xs2, multi)))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(_pack(xs2, multi))), y2, rtol=0, atol=atol
    )
    assert y2.shape == tuple(
        layer.compute_output_shape(_pack([x.shape for x in xs2], multi))
    )
    return layer
