"""Model and front-end configuration: frozen dataclasses with named presets.

``IMSEConfig`` holds every number that shapes the network and its STFT front
end. Layers never see this object: :class:`imse_keras.model.IMSE` reads it and
passes plain numbers down.

This module is the one preset registry: the library (``IMSE.from_preset``,
``Enhancer.from_preset``) and every CLI command read :data:`PRESETS`,
:data:`PRESET_WEIGHTS` and :data:`DEFAULT_OVERLAP` from here. It imports
nothing heavy, so the CLI can build its ``--preset`` choices from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = [
    "IMSEConfig", "PRESETS", "PRESET_WEIGHTS", "DEFAULT_OVERLAP", "get_config", "preset_names",
]


@dataclass(frozen=True)
class IMSEConfig:
    """Architecture and front-end hyper-parameters of IMSE.

    Attributes:
        dense_channel: width C of the dense encoder and of U-Net level 1.
            Levels 2 and 3 are 2C and 3C wide. Must be a multiple of 8
            (MALA uses C // 8 heads of dimension 8).
        num_blocks: transformer blocks per U-Net stage (7 stages).
        dense_depth: layers in each DenseBlock (encoder and both decoders).
        ffn_expansion: hidden width factor of the gated-dconv FFN.
        idconv_pointwise: leading 1x1 conv in IDConv. ``True`` is the released
            model (432,995 parameters); ``False`` is the paper's count (427,619).
        sampling_rate: audio rate the model works at, Hz.
        n_fft: FFT size (= window length) of the STFT; F = n_fft // 2 + 1 bins.
        hop_length: STFT hop in samples.
        compress_factor: magnitude compression exponent.
        beta: scale of the learnable sigmoid mask (mask values in (0, beta)).
        segment_size: samples per inference segment (and training crop).
    """

    dense_channel: int = 16
    num_blocks: int = 4
    dense_depth: int = 4
    ffn_expansion: float = 2.66
    idconv_pointwise: bool = True
    sampling_rate: int = 16000
    n_fft: int = 510
    hop_length: int = 100
    compress_factor: float = 0.3
    beta: float = 2.0
    segment_size: int = 30700

    def __post_init__(self):
        if self.dense_channel <= 0 or self.dense_channel % 8:
            raise ValueError(
                "dense_channel must be a positive multiple of 8. "
                f"Received: dense_channel={self.dense_channel}"
            )
        if self.num_blocks < 1 or self.dense_depth < 1:
            raise ValueError(
                "num_blocks and dense_depth must be >= 1. Received: "
                f"num_blocks={self.num_blocks}, dense_depth={self.dense_depth}"
            )
        if self.n_fft % 2:
            raise ValueError(f"n_fft must be even. Received: n_fft={self.n_fft}")
        if self.num_freqs % 8:
            raise ValueError(
                "n_fft // 2 + 1 must be a multiple of 8 (F is halved three times). "
                f"Received: n_fft={self.n_fft} (F={self.num_freqs})"
            )
        if self.segment_frames % 4:
            raise ValueError(
                "segment_size must give a frame count divisible by 4. Received: "
                f"segment_size={self.segment_size} (T={self.segment_frames})"
            )

    @property
    def num_freqs(self) -> int:
        """F, the number of STFT bins."""
        return self.n_fft // 2 + 1

    @property
    def win_length(self) -> int:
        return self.n_fft

    @property
    def segment_frames(self) -> int:
        """T of one segment: 1 + floor(segment_size / hop_length)."""
        return 1 + self.segment_size // self.hop_length

    def replace(self, **changes) -> "IMSEConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS: dict[str, IMSEConfig] = {
    # The released model: loads the official checkpoints.
    "imse": IMSEConfig(),
    # The paper's parameter count (no IDConv pointwise conv).
    "imse_paper": IMSEConfig(idconv_pointwise=False),
    # Small and fast, for tests and smoke runs. Same front end as "imse".
    "tiny": IMSEConfig(dense_channel=8, num_blocks=1, dense_depth=2),
}

#: Presets with published weights: preset name -> official checkpoint name (see
#: :data:`imse_keras.weights.pretrained.PRETRAINED`). The others start from a
#: random init (``IMSE.from_preset(name, load_weights=False)``).
PRESET_WEIGHTS: dict[str, str] = {"imse": "g_best_pesq_3.399"}

#: How the overlapping tail segment of a long input is merged, everywhere (the
#: library's ``Enhancer``, ``imse enhance`` and every other command): a
#: raised-cosine cross-fade, or ``"official"``, taken from the last segment as
#: the authors' ``inference.py`` does.
DEFAULT_OVERLAP = "crossfade"


def preset_names() -> tuple[str, ...]:
    """The preset names, in registry order (the CLI's ``--preset`` choices)."""
    return tuple(PRESETS)


def get_config(preset: str | IMSEConfig) -> IMSEConfig:
    """Return the config of a named preset (or pass a config through)."""
    if isinstance(preset, IMSEConfig):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise ValueError(
            f"Unknown preset {preset!r}. Available: {', '.join(sorted(PRESETS))}"
        ) from None
