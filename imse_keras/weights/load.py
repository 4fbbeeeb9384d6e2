"""Build a ready-to-use IMSE model from official or local weights.

The PyTorch checkpoint is read (without executing code from it), mapped onto
the Keras model once, and the result cached as a Keras ``.weights.h5`` file
keyed by the checkpoint's SHA-256 and by the model's layer structure, so later
loads skip the conversion.

A Keras ``.weights.h5`` file addresses layers by position and class (``conv2d_13``),
not by name: loaded into a model whose layers changed, Keras only warns and leaves
the unmatched layers at their random init. Here any such warning is an error
(:func:`load_weights_strict`): a cache entry is rebuilt, a user's file is refused.

:func:`load_pretrained` is the loader (``imse_keras.load_pretrained``); most
users call :meth:`imse_keras.IMSE.from_preset` instead. ``load_model`` is its
old name, kept as a deprecated alias (it read like ``keras.saving.load_model``,
which loads ``.keras`` files).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

from imse_keras.config import IMSEConfig, get_config
from imse_keras.weights.pretrained import cache_dir, resolve_checkpoint, sha256_file

__all__ = ["load_pretrained", "load_model", "load_weights_strict", "load_keras_strict",
           "WEIGHTS_SUFFIXES"]

#: File names that are Keras weights rather than torch checkpoints.
WEIGHTS_SUFFIXES = (".weights.h5",)


def _structure_tag(model) -> str:
    """A short hash of what a ``.weights.h5`` file's layout depends on: every
    layer's class and name in order, and every weight's path and shape."""
    h = hashlib.sha256()
    for layer in model.layers:
        h.update(f"{type(layer).__name__}:{layer.name};".encode())
    for w in model.weights:
        h.update(f"{w.path}:{tuple(w.shape)};".encode())
    return h.hexdigest()[:12]


def _converted_path(source_sha: str, model) -> Path:
    # The structure tag covers the architecture too (every weight's shape).
    return cache_dir() / "converted" / f"{source_sha[:16]}-{_structure_tag(model)}.weights.h5"


def load_weights_strict(model, path: str | os.PathLike) -> None:
    """``model.load_weights(path)``, but a file that does not fit raises.

    Raises:
        imse_keras.weights.torch_checkpoint.CheckpointError: Keras could not place
            every weight (it warns, or raises on a shape mismatch), e.g. a file
            saved for another preset or by a version with other layers; or an
            unreadable file. The model's weights are then unspecified.
    """
    _strict(lambda: model.load_weights(path), path)


def load_keras_strict(path: str | os.PathLike):
    """``keras.saving.load_model(path)`` (no code executed from the file: Keras'
    safe mode), but weights that do not fit the rebuilt model raise
    :class:`~imse_keras.weights.torch_checkpoint.CheckpointError`."""
    import keras

    return _strict(lambda: keras.saving.load_model(path, safe_mode=True), path)


def _strict(load, path):
    from imse_keras.weights.torch_checkpoint import CheckpointError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = load()
        except Exception as err:  # h5py, ValueError on shapes, ...
            raise CheckpointError(f"{path}: cannot load these Keras weights: {err}") from err
    problems = [str(w.message) for w in caught if issubclass(w.category, UserWarning)
                and any(k in str(w.message) for k in ("Skipping", "mismatch", "not loaded",
                                                       "did not", "match"))]
    if problems:
        raise CheckpointError(
            f"{path} does not fit this model's layers (another preset, or saved by an "
            f"imse-keras version with other layers): {problems[0].splitlines()[0][:200]}"
        )
    return result


def _save_weights_atomic(model, path: Path) -> None:
    from imse_keras.atomic import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".weights.h5") as tmp:  # Keras wants the suffix
        model.save_weights(tmp, overwrite=True)


def load_pretrained(
    weights: str | os.PathLike | None = None,
    *,
    preset: str | IMSEConfig = "imse",
    allow_download: bool = True,
    use_cache: bool = True,
    progress: bool = True,
):
    """Return an :class:`imse_keras.IMSE` model with trained weights.

    Args:
        weights: ``None`` (the default official checkpoint, ``g_best_pesq_3.399``),
            a registry name or alias (``"3.373"``), a PyTorch checkpoint path, or a
            Keras ``.weights.h5`` path. ``$IMSE_WEIGHTS`` may point at a local copy
            of the official files (see :func:`resolve_checkpoint`).
        preset: architecture of the checkpoint (``"imse"`` for the official ones).
        allow_download: fetch the official checkpoint if no local copy exists.
        use_cache: read and write the converted-weights cache.
        progress: show a download progress bar on a terminal.

    Raises:
        imse_keras.weights.torch_checkpoint.CheckpointError: unreadable or unsafe file.
        imse_keras.weights.convert.WeightMappingError: tensors that do not fit the preset.
        imse_keras.weights.pretrained.DownloadError / WeightsNotFoundError.
    """
    from imse_keras.model import build_model
    from imse_keras.weights.convert import load_torch_weights
    from imse_keras.weights.torch_checkpoint import load_torch_state_dict

    config = get_config(preset)
    model = build_model(config)
    if weights is not None and str(weights).endswith(WEIGHTS_SUFFIXES):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"Keras weights file not found: {path}")
        load_weights_strict(model, path)
        return model

    source = resolve_checkpoint(weights, allow_download=allow_download, progress=progress)
    converted = _converted_path(sha256_file(source), model) if use_cache else None
    if converted is not None and converted.is_file():
        try:
            load_weights_strict(model, converted)
            return model
        except Exception:  # a damaged or stale cache entry: rebuild it from the source
            model = build_model(config)
    load_torch_weights(model, load_torch_state_dict(source), config)
    if converted is not None:
        try:
            _save_weights_atomic(model, converted)
        except OSError:
            pass  # a read-only cache only costs the conversion next time
    return model


def load_model(*args, **kwargs):
    """Deprecated alias of :func:`load_pretrained` (the name clashed with
    ``keras.saving.load_model``)."""
    warnings.warn(
        "imse_keras.weights.load.load_model is deprecated; use imse_keras.load_pretrained "
        "or imse_keras.IMSE.from_preset",
        DeprecationWarning,
        stacklevel=2,
    )
    return load_pretrained(*args, **kwargs)
