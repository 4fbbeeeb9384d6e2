"""IMSE as a peer: the Keras float model and an exported ``.tflite``."""

from __future__ import annotations

import os
from pathlib import Path

from imse_keras.config import DEFAULT_OVERLAP
from imse_keras.peers.base import Peer, PeerUnavailable

__all__ = ["imse_keras_peer", "imse_tflite_peer", "segment_latency_ms"]


def imse_keras_peer(model=None, weights: str | os.PathLike | None = None, preset: str = "imse",
                    overlap: str = DEFAULT_OVERLAP, name: str = "imse-keras") -> Peer:
    """The Keras IMSE model (float32).

    Args:
        model: a built model; loaded from ``weights`` with
            :func:`imse_keras.weights.load.load_pretrained` when ``None``.
        weights: checkpoint name or path (see ``imse enhance --weights``).
        preset: architecture of the weights.
        overlap: tail-segment merge mode of :class:`~imse_keras.enhance.Enhancer`.
    """
    from imse_keras.enhance import Enhancer

    if model is None:
        from imse_keras.weights.load import load_pretrained

        model = load_pretrained(weights, preset=preset)
    from imse_keras.macs import macs_per_second

    enhancer = Enhancer.from_model(model, preset, overlap=overlap)
    cfg = enhancer.config
    params = int(model.count_params())
    return Peer(name, enhancer.enhance_waveform, size_bytes=4 * params, params=params,
                macs_per_second=macs_per_second(model, cfg.sampling_rate, cfg.hop_length),
                latency_ms=segment_latency_ms(cfg),
                note=f"Keras float32, preset {preset}, overlap {overlap}; size = params x 4 bytes")


def segment_latency_ms(config) -> float:
    """IMSE's algorithmic latency: one whole segment (30,700 samples, 1.92 s)."""
    return 1000.0 * config.segment_size / config.sampling_rate


def imse_tflite_peer(path: str | os.PathLike, overlap: str = DEFAULT_OVERLAP, num_threads: int = 2,
                     name: str | None = None, macs_per_second: float | None = None) -> Peer:
    """An exported IMSE ``.tflite`` run with LiteRT through the same front end.

    ``macs_per_second``: the network's cost when known (the Keras model's count).
    """
    path = Path(path)
    if not path.is_file():
        raise PeerUnavailable(f"{path}: TFLite model not found")
    try:
        from imse_keras.export.runner import tflite_backend
    except ImportError as err:  # the export module or its runner is not there
        raise PeerUnavailable(f"cannot run .tflite models: {err}") from err
    from imse_keras.enhance import Enhancer

    try:
        backend = tflite_backend(path, num_threads=num_threads)
    except ImportError as err:
        raise PeerUnavailable(
            f"{path.name}: LiteRT is not installed ({err}); pip install ai-edge-litert"
        ) from err
    except ValueError as err:
        raise PeerUnavailable(f"{path.name}: {err}") from err
    enhancer = Enhancer(backend, "imse", overlap=overlap)
    return Peer(name or f"imse-tflite:{path.stem}", enhancer.enhance_waveform,
                size_bytes=path.stat().st_size, macs_per_second=macs_per_second,
                latency_ms=segment_latency_ms(enhancer.config),
                note=f"LiteRT, {num_threads} thread(s); size = .tflite file")
