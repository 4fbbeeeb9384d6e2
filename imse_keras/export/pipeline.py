"""One export, end to end: trained model -> ``<name>.tflite`` + ``<name>.json``.

:func:`export_tflite` chains the pieces: the export graph (the model's own
:meth:`~imse_keras.model.IMSE.export_graph`), conversion under a policy
(:mod:`~imse_keras.export.convert`), and the I/O contract
(:mod:`~imse_keras.export.contract`). The CLI's ``imse export`` is a thin
wrapper over it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from imse_keras.atomic import write_bytes_atomic
from imse_keras.config import IMSEConfig, get_config
from imse_keras.export.calibration import CalibrationSet
from imse_keras.export.contract import build_contract, write_contract
from imse_keras.export.convert import ConversionResult, convert_model
from imse_keras.export.policy import QuantizationPolicy, get_policy

__all__ = ["ExportArtifacts", "export_tflite", "weights_source", "default_model_name"]


@dataclass(frozen=True)
class ExportArtifacts:
    """What :func:`export_tflite` wrote.

    Attributes:
        model_path: the ``.tflite`` file.
        contract_path: the ``.json`` I/O contract beside it.
        result: the conversion result (bytes, policy, op summary).
        contract: the contract as a dict.
    """

    model_path: Path
    contract_path: Path
    result: ConversionResult
    contract: dict


def default_model_name(policy: QuantizationPolicy | str, preset: str = "imse") -> str:
    """``imse_int8``, ``tiny_float32``, ...: ``<preset>_<mode>``."""
    return f"{preset}_{get_policy(policy).name}"


def weights_source(weights: str | os.PathLike | None) -> dict:
    """Provenance of the weights for the contract: name, SHA-256, licence.

    Registry names and aliases (``None`` is the default checkpoint) are
    described from the registry without touching the network; a file is hashed.
    """
    from imse_keras.weights.pretrained import DEFAULT_CHECKPOINT, get_checkpoint, sha256_file

    if weights is None:
        weights = DEFAULT_CHECKPOINT
    path = Path(str(weights)).expanduser()
    if path.is_file():
        source = {"weights": path.name, "sha256": sha256_file(path)}
        try:
            ckpt = get_checkpoint(path.name)
        except KeyError:
            return source
        if ckpt.sha256 == source["sha256"]:
            source.update({"official": True, "license": ckpt.license, "url": ckpt.url})
        return source
    try:
        ckpt = get_checkpoint(str(weights))
    except KeyError:
        return {"weights": str(weights)}
    return {"weights": ckpt.name, "sha256": ckpt.sha256, "official": True,
            "license": ckpt.license, "url": ckpt.url}


def export_tflite(
    model,
    policy: QuantizationPolicy | str,
    out_dir: str | os.PathLike = "tflite",
    *,
    config: IMSEConfig | str | None = None,
    name: str | None = None,
    calibration: CalibrationSet | None = None,
    source: dict | None = None,
    num_frames: int | None = None,
) -> ExportArtifacts:
    """Convert a trained model and write ``<out_dir>/<name>.tflite`` and ``.json``.

    Args:
        model: an :class:`imse_keras.IMSE` with weights; its own layers are
            converted (:meth:`~imse_keras.model.IMSE.export_graph`).
        policy: a :class:`QuantizationPolicy` or mode name.
        out_dir: target folder (created if missing).
        config: the model's preset name (names the files) or config; it must be
            the model's own (``model.imse_config``); default: the model's.
        name: file stem; default ``<preset>_<mode>`` (e.g. ``imse_int8``).
        calibration: representative data, required for int8.
        source: provenance of the weights (see :func:`weights_source`).
        num_frames: T of the graph (default: one 308-frame segment; ``0`` for
            a dynamic T, float modes only).

    Raises:
        ValueError: bad arguments (int8 without calibration, bad T, ...).
        imse_keras.export.convert.ExportError: conversion failed or produced
            non-builtin ops.
    """
    cfg = model.imse_config
    if config is not None and get_config(config) != cfg:
        raise ValueError(
            f"config {config!r} is not the model's own ({cfg!r}); a model carries its config"
        )
    policy = get_policy(policy)
    if num_frames == 0 and policy.needs_calibration:
        raise ValueError("a dynamic-T graph cannot be int8-calibrated; export a fixed T")
    preset = config if isinstance(config, str) else "custom"
    stem = name or default_model_name(policy, preset)
    graph = model.export_graph(num_frames)
    result = convert_model(graph, policy, calibration)
    out = Path(out_dir)
    model_path = out / f"{stem}.tflite"
    write_bytes_atomic(model_path, result.model)
    contract = build_contract(
        result.model,
        model_file=model_path.name,
        policy=policy,
        config=cfg,
        source=source,
        calibration=result.calibration,
    )
    contract_path = write_contract(contract, out / f"{stem}.json")
    return ExportArtifacts(model_path, Path(contract_path), result, contract)
