"""The IMSE front end: one object from a waveform to the network's features and back.

:class:`FrontEnd` holds the five front-end numbers of an :class:`IMSEConfig`
(rate, STFT size and hop, magnitude compression, segment size) and is the one
place the steps around the network are written: RMS normalisation, the segment
plan, splitting and merging (with the one default overlap,
:data:`imse_keras.config.DEFAULT_OVERLAP`), the STFT with compression, the
inverse, and de-normalisation. Inference (:class:`imse_keras.enhance.Enhancer`),
streaming, int8 calibration, the training data and the training PESQ target all
call it.

Layouts (``...``: any leading batch axes):

- waveform ``[n]`` (a segment batch ``[N, segment_size]``);
- features ``mag_c``, ``pha``: float32 ``[..., T, F]``, frames first, the
  model's own layout, ``T = 1 + n // hop_length``, ``F = n_fft // 2 + 1``;
- compressed complex spectrum (the ``com`` target): ``[..., T, F, 2]``
  (real, imaginary).

Example:

```python
fe = FrontEnd.from_config("imse")             # or model.imse_config
x_norm, scale = fe.normalize(x)               # [n], unit RMS
plan = fe.segments(len(x_norm))
mag_c, pha = fe.features(fe.split(x_norm, plan))   # [N, T, F] each
# ... the network: (mag_c, pha) -> (mag_c_out, pha_out), [N, T, F] each ...
segments = fe.waveform(mag_c_out, pha_out, fe.segment_size)   # [N, segment_size]
y = fe.denormalize(fe.merge(segments, plan, len(x)), scale)    # [n], the input's level
```
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from imse_keras.config import DEFAULT_OVERLAP, IMSEConfig, get_config
from imse_keras.dsp.normalize import apply_scale, remove_scale, rms_normalize
from imse_keras.dsp.segment import merge_segments, plan_segments, split_segments
from imse_keras.dsp.stft import mag_pha_istft, mag_pha_stft

__all__ = ["FrontEnd", "polar_to_cartesian"]


def _frames_first(a: np.ndarray) -> np.ndarray:
    """torch's ``[..., F, T]`` -> ``[..., T, F]``, contiguous."""
    return np.ascontiguousarray(np.swapaxes(a, -1, -2))


def polar_to_cartesian(mag_c: np.ndarray, pha: np.ndarray) -> np.ndarray:
    """``[..., T, F]`` x 2 -> ``[..., T, F, 2]``: ``mag_c * (cos, sin)(pha)``, float32.

    The numpy twin of :class:`imse_keras.layers.PolarToCartesian` (the model's
    ``com_out``), for targets and hosts that rebuild that output.
    """
    mag_c = np.asarray(mag_c, np.float32)
    pha = np.asarray(pha, np.float32)
    return np.stack([mag_c * np.cos(pha), mag_c * np.sin(pha)], axis=-1).astype(np.float32)


@dataclass(frozen=True)
class FrontEnd:
    """Everything between a waveform and the IMSE network (see the module docstring).

    Build it with :meth:`from_config` (the numbers, and their defaults, are those
    of :class:`~imse_keras.config.IMSEConfig`).

    Attributes:
        sampling_rate: the model's audio rate, Hz.
        n_fft: FFT size and window length (periodic Hann).
        hop_length: STFT hop in samples.
        compress_factor: ``mag_c = |X| ** compress_factor``.
        segment_size: samples per network segment (the training crop length).
    """

    sampling_rate: int
    n_fft: int
    hop_length: int
    compress_factor: float
    segment_size: int

    def __post_init__(self):
        for name in ("sampling_rate", "n_fft", "hop_length", "segment_size"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value}")
        if not 1 <= self.hop_length <= self.n_fft:
            raise ValueError(
                f"hop_length must be in [1, n_fft]. Received: hop_length={self.hop_length}, "
                f"n_fft={self.n_fft}"
            )
        if not self.compress_factor > 0:
            raise ValueError(
                f"compress_factor must be > 0. Received: compress_factor={self.compress_factor}"
            )

    @classmethod
    def from_config(cls, config: "IMSEConfig | str | FrontEnd" = "imse") -> "FrontEnd":
        """The front end of an :class:`IMSEConfig`, a preset name, or a model's
        ``imse_config``; a :class:`FrontEnd` is returned as it is."""
        if isinstance(config, FrontEnd):
            return config
        cfg = get_config(config)
        return cls(**{f.name: getattr(cfg, f.name) for f in fields(cls)})

    # --- sizes ----------------------------------------------------------------------

    @property
    def num_freqs(self) -> int:
        """F = ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    def num_frames(self, n_samples: int) -> int:
        """T of the STFT of ``n_samples`` samples: ``1 + n_samples // hop_length``."""
        return 1 + int(n_samples) // self.hop_length

    @property
    def segment_frames(self) -> int:
        """T of one segment (308 for the official 30,700 samples)."""
        return self.num_frames(self.segment_size)

    # --- level ----------------------------------------------------------------------

    def normalize(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """``(x * scale, scale)`` with unit RMS over the whole 1-D waveform ``[n]``;
        see :func:`imse_keras.dsp.normalize.rms_normalize` (silence: ``scale = 1``)."""
        return rms_normalize(x)

    @staticmethod
    def apply_scale(x: np.ndarray, scale) -> np.ndarray:
        """``x * scale`` in float64, rounded once to float32 (scale: a float or an
        array broadcasting against ``x``, e.g. one per channel)."""
        return apply_scale(x, scale)

    @staticmethod
    def denormalize(y: np.ndarray, scale) -> np.ndarray:
        """``y / scale`` in float64, rounded once to float32: the output back at the
        input's level."""
        return remove_scale(y, scale)

    # --- segments -------------------------------------------------------------------

    def segments(self, n_samples: int) -> list[tuple[int, int]]:
        """The segment plan of a waveform of ``n_samples``: ``[(start, stop), ...]``;
        see :func:`imse_keras.dsp.segment.plan_segments`."""
        return plan_segments(n_samples, self.segment_size)

    def split(self, x: np.ndarray, plan: list[tuple[int, int]] | None = None) -> np.ndarray:
        """``[n]`` -> ``[N, segment_size]`` along ``plan`` (default ``segments(len(x))``);
        a short file's segment is zero-padded."""
        x = np.asarray(x)
        if plan is None:
            plan = self.segments(x.shape[-1])
        return split_segments(x, plan, self.segment_size)

    @staticmethod
    def merge(outputs: np.ndarray, plan: list[tuple[int, int]], n_samples: int,
              overlap: str = DEFAULT_OVERLAP) -> np.ndarray:
        """``[N, segment_size]`` -> ``[n_samples]``; the tail overlap merged by
        ``overlap`` (``"crossfade"``, the default everywhere, or ``"official"``);
        see :func:`imse_keras.dsp.segment.merge_segments`."""
        return merge_segments(outputs, plan, n_samples, mode=overlap)

    # --- spectra --------------------------------------------------------------------

    def features(self, wave: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Network inputs of a waveform: ``[..., n]`` -> ``(mag_c, pha)``, float32
        ``[..., T, F]`` each (``|X| ** compress_factor`` and ``angle(X)``)."""
        mag_c, pha = mag_pha_stft(wave, self.n_fft, self.hop_length, self.compress_factor)
        # dsp.stft mirrors torch's [..., F, T]; this is the package's one transpose.
        return _frames_first(mag_c), _frames_first(pha)

    def waveform(self, mag_c: np.ndarray, pha: np.ndarray, length: int | None = None) -> np.ndarray:
        """Waveform of network outputs: ``(mag_c, pha)`` ``[..., T, F]`` -> float32
        ``[..., length]`` (default ``hop_length * (T - 1)``; a segment's outputs
        want ``length=segment_size``); see :func:`imse_keras.dsp.stft.mag_pha_istft`.

        Negative magnitudes (a backend's rounding) are clipped to 0 first, so any
        backend's output inverts.
        """
        return mag_pha_istft(np.swapaxes(np.maximum(mag_c, 0.0), -1, -2),
                             np.swapaxes(pha, -1, -2), self.n_fft, self.hop_length,
                             self.compress_factor, length=length)

    @staticmethod
    def cartesian(mag_c: np.ndarray, pha: np.ndarray) -> np.ndarray:
        """The compressed complex spectrum ``[..., T, F, 2]`` (the ``com`` target);
        see :func:`polar_to_cartesian`."""
        return polar_to_cartesian(mag_c, pha)

    # --- whole steps ----------------------------------------------------------------

    def segment_features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network inputs of one mono waveform at ``sampling_rate``, segment by
        segment, exactly as inference feeds them: normalise, split, STFT.

        Returns:
            ``(mag_c, pha)``, float32 ``[num_segments, T, F]``.
        """
        x_norm, _ = self.normalize(np.asarray(x, dtype=np.float32))
        return self.features(self.split(x_norm))
