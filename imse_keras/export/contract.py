"""The I/O contract written beside every exported model (``<name>.json``).

Everything an app needs to drive the ``.tflite`` without reading this
package's source: the front end (rate, STFT, compression, segment size), the
tensors (names, shapes, dtypes, scales and zero points), what to compute on
the host, and provenance (mode, weights and their SHA-256, calibration data,
package versions). ``tflite/README.md`` explains each field.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from imse_keras.config import IMSEConfig, get_config
from imse_keras.export.io_names import EXPORT_INPUTS, EXPORT_OUTPUTS

__all__ = [
    "CONTRACT_FORMAT",
    "CONTRACT_VERSION",
    "REQUIRED_KEYS",
    "ContractError",
    "build_contract",
    "check_contract",
    "read_contract",
    "write_contract",
    "package_versions",
]

CONTRACT_FORMAT = "imse-tflite-io-contract"
CONTRACT_VERSION = 1

#: Top-level keys every contract has.
REQUIRED_KEYS = (
    "format", "version", "model", "mode", "policy", "front_end", "inputs", "outputs",
    "host", "source", "calibration", "ops", "versions", "created_utc",
)
_FRONT_END_KEYS = (
    "sample_rate", "n_fft", "win_length", "hop_length", "window", "center", "pad_mode",
    "compress_factor", "num_freqs", "segment_samples", "segment_frames", "rms_normalization",
)
_TENSOR_KEYS = ("name", "tensor_name", "index", "shape", "layout", "dtype", "quantization")

_HOST = {
    "mag_c_out": "mag_c * mask (float, on the host; mask is in (0, beta))",
    "phase": "atan2(phase_i, phase_r); or, without atan2: cos = phase_r / h, sin = phase_i / h "
    "with h = sqrt(phase_r^2 + phase_i^2) (cos = 1, sin = 0 where h = 0)",
    "spectrum": "X = (mag_c_out ** (1 / compress_factor)) * (cos + j sin), frames-first [T, F]",
    "quantize": "q = clip(round_half_away_from_zero(x / scale) + zero_point, -128, 127)",
    "dequantize": "x = (q - zero_point) * scale",
}


class ContractError(ValueError):
    """A contract file is missing, unreadable or incomplete."""


def package_versions() -> dict[str, str]:
    """Versions of the packages an export depends on, plus Python's."""
    versions = {"python": platform.python_version()}
    for dist in ("imse-keras", "tensorflow-cpu", "tensorflow", "keras", "ai-edge-litert",
                 "numpy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tensor_entry(name: str, detail: dict) -> dict:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    dtype = np.dtype(detail["dtype"]).name
    quant = None
    if np.dtype(detail["dtype"]).kind in "iu" and scale:
        quant = {"scale": float(scale), "zero_point": int(zero_point)}
    return {
        "name": name,
        "tensor_name": detail.get("name", name),
        "index": int(detail["index"]),
        "shape": [int(s) for s in detail["shape_signature"]],
        "layout": "[batch=1, T frames, F bins]",
        "dtype": dtype,
        "quantization": quant,
    }


def build_contract(
    model: bytes,
    *,
    model_file: str,
    policy,
    config: IMSEConfig | str = "imse",
    source: dict | None = None,
    calibration: dict | None = None,
) -> dict:
    """The contract of an exported model.

    Args:
        model: the ``.tflite`` bytes (read for tensor details, op list and hash).
        model_file: its file name, as stored beside the contract.
        policy: the :class:`~imse_keras.export.policy.QuantizationPolicy` used.
        config: the model's config (front-end numbers).
        source: where the weights came from, e.g. ``{"weights": name, "sha256": ...}``.
        calibration: :attr:`CalibrationSet.info` for int8, else ``None``.
    """
    from imse_keras.export.flatbuffer import summarize_model
    from imse_keras.export.runner import LiteRTModel

    cfg = get_config(config)
    runner = LiteRTModel(model, num_threads=1)
    inputs = [_tensor_entry(n, runner.input_details[n]) for n in EXPORT_INPUTS]
    outputs = [_tensor_entry(n, runner.output_details[n]) for n in EXPORT_OUTPUTS]
    return {
        "format": CONTRACT_FORMAT,
        "version": CONTRACT_VERSION,
        "model": {"file": model_file, "size_bytes": len(model), "sha256": _sha256(bytes(model)),
                  "signature": "serving_default"},
        "mode": policy.name,
        "policy": policy.to_dict(),
        "front_end": {
            "sample_rate": cfg.sampling_rate,
            "n_fft": cfg.n_fft,
            "win_length": cfg.win_length,
            "hop_length": cfg.hop_length,
            "window": "hann, periodic (denominator n_fft)",
            "center": True,
            "pad_mode": "reflect",
            "compress_factor": cfg.compress_factor,
            "num_freqs": cfg.num_freqs,
            "segment_samples": cfg.segment_size,
            "segment_frames": cfg.segment_frames,
            "rms_normalization": "x * sqrt(n / sum(x^2)) per file before the STFT; "
            "divide the output by the same factor",
            "mask_range": [0.0, cfg.beta],
        },
        "inputs": inputs,
        "outputs": outputs,
        "host": dict(_HOST),
        "source": {"preset_config": cfg.to_dict(), **(source or {})},
        "calibration": calibration,
        "ops": summarize_model(model).to_dict(),
        "versions": package_versions(),
        "created_utc": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }


def check_contract(contract: dict) -> dict:
    """Raise :class:`ContractError` unless every required field is present.

    Returns:
        ``contract``, for chaining.
    """
    missing = [k for k in REQUIRED_KEYS if k not in contract]
    if contract.get("format") != CONTRACT_FORMAT:
        missing.append("format (wrong value)")
    missing += [f"front_end.{k}" for k in _FRONT_END_KEYS if k not in contract.get("front_end", {})]
    for group, names in (("inputs", EXPORT_INPUTS), ("outputs", EXPORT_OUTPUTS)):
        entries = {e.get("name"): e for e in contract.get(group, [])}
        for name in names:
            if name not in entries:
                missing.append(f"{group}.{name}")
                continue
            missing += [f"{group}.{name}.{k}" for k in _TENSOR_KEYS if k not in entries[name]]
            if entries[name].get("dtype") == "int8" and not entries[name].get("quantization"):
                missing.append(f"{group}.{name}.quantization (int8 without scale)")
    if contract.get("mode") == "int8" and not contract.get("calibration"):
        missing.append("calibration (int8 model without calibration info)")
    if missing:
        raise ContractError(f"incomplete I/O contract; missing: {', '.join(missing)}")
    return contract


def write_contract(contract: dict, path: str | os.PathLike) -> Path:
    """Check and write a contract as indented JSON (atomically)."""
    from imse_keras.atomic import write_text_atomic

    check_contract(contract)
    return write_text_atomic(path, json.dumps(contract, indent=2, sort_keys=False) + "\n")


def read_contract(path: str | os.PathLike) -> dict:
    """Read and check a contract file."""
    p = Path(path)
    try:
        contract = json.loads(p.read_text())
    except FileNotFoundError:
        raise ContractError(f"contract not found: {p}") from None
    except (OSError, json.JSONDecodeError) as err:
        raise ContractError(f"cannot read contract {p}: {err}") from err
    return check_contract(contract)
