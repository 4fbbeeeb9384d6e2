"""Waveform-level enhancement: the front end around any IMSE backend.

``Enhancer`` runs a waveform through the front end
(:class:`imse_keras.frontend.FrontEnd`: RMS normalisation, fixed-length
segments, the STFT and its inverse) and the network, and handles resampling,
sample formats and channels. The network itself is a
``SpectralBackend``: a callable from ``(mag_c, pha)`` to ``(mag_c_out, pha_out)``,
each ``[B, T, F]`` float32 (frames first). A Keras model and a LiteRT interpreter both fit.

``Enhancer.from_preset("imse")`` is the one-line start; its defaults (overlap
:data:`imse_keras.config.DEFAULT_OVERLAP`, batch size) are those of
``imse enhance``, and :meth:`Enhancer.enhance_file` is the CLI's streaming file
path, so the library and the command give the same output.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from imse_keras.audio_io import resample
from imse_keras.config import DEFAULT_OVERLAP, IMSEConfig, get_config
from imse_keras.dsp.segment import MERGE_MODES
from imse_keras.frontend import FrontEnd

__all__ = ["Enhancer", "SpectralBackend", "keras_backend"]

#: ``(mag_c [B, T, F], pha [B, T, F]) -> (mag_c_out [B, T, F], pha_out [B, T, F])``.
SpectralBackend = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def keras_backend(model) -> SpectralBackend:
    """Wrap an :class:`imse_keras.IMSE` model as a backend.

    Each call runs under :func:`imse_keras.runtime.graph_options`: the model's
    graph settings apply to its own calls only, not to the user's TensorFlow.
    """
    from imse_keras.runtime import graph_options

    def run(mag_c: np.ndarray, pha: np.ndarray):
        with graph_options():
            mag_out, pha_out, _ = model.predict_on_batch([mag_c, pha])
        return np.asarray(mag_out), np.asarray(pha_out)

    return run


@dataclass
class Enhancer:
    """Enhance waveforms with an IMSE backend.

    Args:
        backend: the spectral network (see :data:`SpectralBackend`).
        config: front-end numbers (sample rate, STFT, segment size); the
            :class:`~imse_keras.frontend.FrontEnd` built from it is ``frontend``.
        batch_size: segments per network call; bounds memory for long files.
        overlap: how the tail segment's overlap is merged, ``"crossfade"`` (the
            default everywhere, :data:`imse_keras.config.DEFAULT_OVERLAP`) or
            ``"official"`` (taken from the last segment, as the authors'
            ``inference.py``).

    Example:

    ```python
    enhancer = Enhancer.from_preset("imse")        # official weights
    clean = enhancer.enhance(noisy, sample_rate)   # [n] or [n, channels], any rate
    enhancer.enhance_file("noisy.wav", "clean.wav")
    ```
    """

    backend: SpectralBackend
    config: IMSEConfig | str = "imse"
    batch_size: int = 4
    overlap: str = DEFAULT_OVERLAP
    frontend: FrontEnd = field(init=False, repr=False)

    def __post_init__(self):
        self.config = get_config(self.config)
        self.frontend = FrontEnd.from_config(self.config)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1. Received: batch_size={self.batch_size}")
        if self.overlap not in MERGE_MODES:
            raise ValueError(f"overlap must be one of {MERGE_MODES}. Received: {self.overlap!r}")

    @classmethod
    def from_model(cls, model, config: IMSEConfig | str | None = None, **kwargs) -> "Enhancer":
        """An Enhancer over a Keras model.

        Args:
            model: an :class:`imse_keras.IMSE` (or any model with its I/O).
            config: front-end numbers; default: the model's own
                (``model.imse_config``), else preset ``"imse"``.
            **kwargs: ``batch_size``, ``overlap``.
        """
        if config is None:
            config = getattr(model, "imse_config", "imse")
        return cls(keras_backend(model), config, **kwargs)

    @classmethod
    def from_preset(
        cls,
        name_or_path: str | os.PathLike = "imse",
        *,
        batch_size: int = 4,
        overlap: str = DEFAULT_OVERLAP,
        **model_kwargs,
    ) -> "Enhancer":
        """An Enhancer over ``IMSE.from_preset(name_or_path, **model_kwargs)``.

        Args:
            name_or_path: see :meth:`imse_keras.IMSE.from_preset` (``"imse"``:
                the official ``g_best_pesq_3.399`` weights).
            batch_size: segments per network call.
            overlap: tail-overlap merge; the CLI's default.
            **model_kwargs: ``config``, ``allow_download``, ``progress``.
        """
        from imse_keras.model import IMSE

        model = IMSE.from_preset(name_or_path, **model_kwargs)
        return cls.from_model(model, batch_size=batch_size, overlap=overlap)

    def enhance_segments(self, segments: np.ndarray) -> np.ndarray:
        """Enhance normalised segments ``[N, segment_size]`` -> ``[N, segment_size]``.

        ``batch_size`` segments at a time: features ``[b, T, F]`` through the
        backend and back to waveforms.
        """
        fe = self.frontend
        out = np.empty_like(segments, dtype=np.float32)
        for start in range(0, len(segments), self.batch_size):
            chunk = segments[start : start + self.batch_size]
            mag_out, pha_out = self.backend(*fe.features(chunk))
            out[start : start + len(chunk)] = fe.waveform(mag_out, pha_out, fe.segment_size)
        return out

    def enhance_waveform(self, x: np.ndarray) -> np.ndarray:
        """Enhance one mono waveform at the model's rate.

        Args:
            x: ``[n]`` float samples at ``config.sampling_rate``; any n >= 1.

        Returns:
            ``[n]`` float32, the same length.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1 or x.size == 0:
            raise ValueError(f"Expected a non-empty 1-D waveform. Received: shape={x.shape}")
        fe = self.frontend
        x_norm, scale = fe.normalize(x)
        plan = fe.segments(len(x_norm))
        outputs = self.enhance_segments(fe.split(x_norm, plan))
        return fe.denormalize(fe.merge(outputs, plan, len(x_norm), self.overlap), scale)

    def enhance(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """Enhance audio at any rate and channel count; each channel separately.

        Args:
            samples: ``[n]`` or ``[n, channels]`` samples. Floats are taken as they
                are (full scale 1.0); integer PCM is scaled to floats first
                (``int16 / 32768``, ``int32 / 2**31``, ``uint8`` centred on 128).
            sample_rate: their rate in Hz; resampled to the model's rate and back.

        Returns:
            float32 array of ``samples``' shape (full scale 1.0, not clipped).
        """
        samples = _as_float32(samples)
        squeeze = samples.ndim == 1
        frames = samples[:, None] if squeeze else samples
        if frames.ndim != 2 or frames.shape[0] == 0:
            raise ValueError(f"Expected [n] or [n, channels] audio. Received: shape={samples.shape}")
        n, sr_model = frames.shape[0], self.config.sampling_rate
        out = np.empty_like(frames)
        for ch in range(frames.shape[1]):
            x = resample(frames[:, ch], sample_rate, sr_model)
            if x.size == 0:  # a file of a few samples at a higher rate
                x = np.zeros(1, np.float32)
            y = self.enhance_waveform(x)
            y = resample(y, sr_model, sample_rate)
            out[:, ch] = _fit_length(y, n)
        return out[:, 0] if squeeze else out


    def enhance_file(self, src: str | os.PathLike, dst: str | os.PathLike) -> dict:
        """Enhance an audio file into ``dst``, exactly as ``imse enhance SRC -o DST``.

        Streams the file (memory bounded for any length) and writes atomically;
        the output keeps the input's rate, channels, length and sample format.

        Returns:
            ``{"input", "output", "seconds", "sample_rate", "channels"}``.

        Raises:
            imse_keras.audio_io.AudioError: unreadable, empty or non-finite input;
                unwritable output.
        """
        from imse_keras.streaming import enhance_file_streaming as enhance_file

        return enhance_file(self, src, dst)


def _as_float32(samples) -> np.ndarray:
    """Samples as float32 at full scale 1.0: floats as they are, integer PCM scaled."""
    a = np.asarray(samples)
    if a.dtype.kind == "f":
        return a.astype(np.float32, copy=False)
    if a.dtype.kind == "i":
        return (a.astype(np.float64) / float(2 ** (8 * a.dtype.itemsize - 1))).astype(np.float32)
    if a.dtype.kind == "u":
        half = float(2 ** (8 * a.dtype.itemsize - 1))
        return ((a.astype(np.float64) - half) / half).astype(np.float32)
    raise TypeError(
        f"Expected float or integer PCM samples. Received: dtype={a.dtype}"
    )


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad to n samples (resampling can be off by a sample or two)."""
    if len(y) >= n:
        return y[:n]
    return np.pad(y, (0, n - len(y)))
