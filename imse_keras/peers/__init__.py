"""Enhancement systems to compare side by side, each ``enhance(x16k) -> y16k``.

Baselines by name, IMSE (Keras, TFLite) and streaming ONNX models
(:func:`onnx_peer`: FastEnhancer, GTCRN) given by path.

:data:`BASELINES` maps a name to a factory; :func:`load_peers` builds the ones
asked for and reports, instead of raising, those that cannot run here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from imse_keras.peers.base import Peer, PeerUnavailable, fit_length
from imse_keras.peers.baselines import noisereduce_peer, noisy_peer, rnnoise_peer
from imse_keras.peers.imse import imse_keras_peer, imse_tflite_peer
from imse_keras.peers.onnx_stream import StftSettings, onnx_peer, parse_stft

__all__ = [
    "BASELINES",
    "Peer",
    "PeerUnavailable",
    "StftSettings",
    "fit_length",
    "imse_keras_peer",
    "imse_tflite_peer",
    "load_peers",
    "noisereduce_peer",
    "noisy_peer",
    "onnx_peer",
    "parse_stft",
    "rnnoise_peer",
]

#: Baselines by name, in table order.
BASELINES: dict[str, Callable[[], Peer]] = {
    "noisy": noisy_peer,
    "noisereduce": noisereduce_peer,
    "rnnoise": rnnoise_peer,
}


def load_peers(names: Iterable[str]) -> tuple[list[Peer], dict[str, str]]:
    """Build the baselines ``names``.

    Returns:
        ``(peers, skipped)``: the peers that run here, and ``{name: reason}`` for
        those that do not (a missing package, with the extra to install).

    Raises:
        ValueError: an unknown name.
    """
    peers, skipped = [], {}
    for name in names:
        if name not in BASELINES:
            raise ValueError(f"unknown peer {name!r}; choose from {', '.join(BASELINES)}")
        try:
            peers.append(BASELINES[name]())
        except PeerUnavailable as err:
            skipped[name] = str(err)
    return peers, skipped
