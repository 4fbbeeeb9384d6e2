"""Run an exported ``.tflite`` with LiteRT, callable like the Keras model.

:class:`LiteRTModel` wraps an ``ai_edge_litert`` interpreter around a model
from :func:`imse_keras.export.convert.convert_model` and does on the host what
the contract (``tflite/README.md``) asks of any caller:

* feed ``[B, T, F]`` inputs (the one layout of the package, the graph's
  ``[1, T, F]``) one batch item at a time (the graph has batch 1);
* for int8 I/O, quantize inputs as ``clip(round_half_away(x / scale) + zero_point,
  -128, 127)`` and dequantize outputs as ``(q - zero_point) * scale``;
* resize a dynamic-T graph to the input's T (a fixed-T graph only takes its T);
* form ``mag_c_out = mag_c * mask``, ``pha_out = atan2(phase_i, phase_r)`` and
  ``com_out = mag_c_out * (cos, sin)(pha_out)``.

``model([mag_c, pha])`` then returns what the Keras model returns, so
``allclose(tflite(x), keras(x))`` is the test, and :func:`tflite_backend` plugs
it into :class:`~imse_keras.enhance.Enhancer`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imse_keras.export.io_names import EXPORT_INPUTS, EXPORT_OUTPUTS, SIGNATURE_KEY

__all__ = ["LiteRTModel", "tflite_backend", "quantize", "dequantize"]

_SIGNATURE = SIGNATURE_KEY


def _round_half_away(x: np.ndarray) -> np.ndarray:
    """Round to nearest, ties away from zero (TFLite's and C's ``round``;
    ``np.round`` rounds ties to even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    """Affine quantization with round-half-away-from-zero and saturation."""
    info = np.iinfo(dtype)
    q = _round_half_away(np.asarray(x, np.float64) / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """``(q - zero_point) * scale`` as float32."""
    return ((np.asarray(q, np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(
        np.float32
    )


class LiteRTModel:
    """An exported IMSE graph under the LiteRT interpreter.

    Args:
        model: path of a ``.tflite`` file, or its bytes.
        num_threads: interpreter threads.

    Attributes:
        num_frames: the graph's T, or ``None`` for a dynamic-T graph.
        num_freqs: F.
        io_dtype: ``numpy.int8`` or ``numpy.float32``.
    """

    def __init__(self, model: str | os.PathLike | bytes, num_threads: int = 2):
        from ai_edge_litert.interpreter import Interpreter

        if num_threads < 1:
            raise ValueError(f"num_threads must be >= 1. Received: num_threads={num_threads}")
        if isinstance(model, (bytes, bytearray)):
            self.path = None
            self._interpreter = Interpreter(model_content=bytes(model), num_threads=num_threads)
        else:
            path = Path(model)
            if not path.is_file():
                raise FileNotFoundError(f"TFLite model not found: {path}")
            self.path = path
            self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self.num_threads = int(num_threads)
        signatures = self._interpreter.get_signature_list()
        if _SIGNATURE not in signatures:
            raise ValueError(f"the model has no {_SIGNATURE!r} signature: {sorted(signatures)}")
        names = signatures[_SIGNATURE]
        missing = [n for n in EXPORT_INPUTS if n not in names["inputs"]] + [
            n for n in EXPORT_OUTPUTS if n not in names["outputs"]
        ]
        if missing:
            raise ValueError(
                f"not an IMSE export graph: the signature lacks {missing} "
                f"(inputs {names['inputs']}, outputs {names['outputs']})"
            )
        self._runner = self._interpreter.get_signature_runner(_SIGNATURE)
        self._inputs = self._runner.get_input_details()
        self._outputs = self._runner.get_output_details()
        signature = self._inputs[EXPORT_INPUTS[0]]["shape_signature"]
        self.num_freqs = int(signature[2])
        self.num_frames = None if int(signature[1]) < 0 else int(signature[1])
        self.io_dtype = np.dtype(self._inputs[EXPORT_INPUTS[0]]["dtype"]).type

    # --- tensor details -------------------------------------------------------------

    @property
    def input_details(self) -> dict:
        """Signature input details by name (shape, dtype, quantization)."""
        return self._inputs

    @property
    def output_details(self) -> dict:
        """Signature output details by name."""
        return self._outputs

    @staticmethod
    def _qparams(detail) -> tuple[float, int] | None:
        scale, zero_point = detail.get("quantization", (0.0, 0))
        if np.dtype(detail["dtype"]).kind == "f" or not scale:
            return None
        return float(scale), int(zero_point)

    # --- running --------------------------------------------------------------------

    def _prepare(self, frames: int) -> None:
        if frames < 4 or frames % 4:
            raise ValueError(
                f"T must be a positive multiple of 4 (the U-Net halves it twice). Received: T={frames}"
            )
        if self.num_frames is not None and frames != self.num_frames:
            raise ValueError(
                f"this model was exported for T={self.num_frames} frames "
                f"({self.num_frames - 1} hops); received T={frames}. Export with a dynamic T "
                "or feed segments of the exported length."
            )
        # A dynamic-T graph: the signature runner resizes its inputs (and
        # reallocates) when the shape of what it is fed changes.

    def run_frames_first(self, mag_c: np.ndarray, pha: np.ndarray) -> dict[str, np.ndarray]:
        """Run the raw graph.

        Args:
            mag_c, pha: float ``[B, T, F]`` (the graph's own layout).

        Returns:
            ``{"mask", "phase_r", "phase_i"}``, float32 ``[B, T, F]`` (dequantized).
        """
        mag_c = np.asarray(mag_c, np.float32)
        pha = np.asarray(pha, np.float32)
        if mag_c.shape != pha.shape or mag_c.ndim != 3 or mag_c.shape[2] != self.num_freqs:
            raise ValueError(
                f"expected mag_c and pha of one shape [B, T, F={self.num_freqs}]. "
                f"Received: {mag_c.shape} and {pha.shape}"
            )
        batch, frames = mag_c.shape[:2]
        self._prepare(frames)
        out = {name: np.empty(mag_c.shape, np.float32) for name in EXPORT_OUTPUTS}
        for b in range(batch):
            feed = {}
            for name, x in zip(EXPORT_INPUTS, (mag_c[b : b + 1], pha[b : b + 1])):
                q = self._qparams(self._inputs[name])
                feed[name] = x if q is None else quantize(x, *q, dtype=self.io_dtype)
            result = self._runner(**feed)
            for name in EXPORT_OUTPUTS:
                y = result[name]
                q = self._qparams(self._outputs[name])
                out[name][b] = (y if q is None else dequantize(y, *q))[0]
        return out

    def spectral(self, mag_c: np.ndarray, pha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(mag_c [B, T, F], pha [B, T, F]) -> (mag_c_out, pha_out)`` ``[B, T, F]``,
        a :data:`~imse_keras.enhance.SpectralBackend`."""
        mag_c = np.asarray(mag_c, np.float32)
        pha = np.asarray(pha, np.float32)
        if mag_c.ndim != 3 or mag_c.shape != pha.shape:
            raise ValueError(
                "expected mag_c and pha of one shape [B, T, F]. "
                f"Received: {mag_c.shape} and {np.shape(pha)}"
            )
        out = self.run_frames_first(mag_c, pha)
        phase = np.arctan2(out["phase_i"], out["phase_r"])
        return (mag_c * out["mask"]).astype(np.float32), phase.astype(np.float32)

    def __call__(self, inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``model([mag_c, pha]) -> (mag_c_out, pha_out, com_out)`` like the Keras
        model: ``[B, T, F]`` in, ``[B, T, F]``, ``[B, T, F]``, ``[B, T, F, 2]`` out."""
        from imse_keras.frontend import polar_to_cartesian

        mag_c, pha = inputs
        mag_out, pha_out = self.spectral(mag_c, pha)
        return mag_out, pha_out, polar_to_cartesian(mag_out, pha_out)


def tflite_backend(model: str | os.PathLike | bytes | LiteRTModel, num_threads: int = 2):
    """A :data:`~imse_keras.enhance.SpectralBackend` running a ``.tflite`` file.

    ``Enhancer(tflite_backend("tflite/imse_int8.tflite"), overlap="crossfade")``
    applies the same front end and segmentation as the Keras backend.
    """
    runner = model if isinstance(model, LiteRTModel) else LiteRTModel(model, num_threads)
    return runner.spectral
