"""Training data: layout detection, 16 kHz cache, checks and the tf.data pipeline."""

from imse_keras.data.layout import (
    VOICEBANK_DIRS,
    DataError,
    DataLayout,
    DataReport,
    Pair,
    detect_layout,
    prepare_clean,
    prepare_pairs,
)
from imse_keras.data.pipeline import Example, crop_pair, features, make_dataset, mix_source, pair_source

__all__ = [
    "VOICEBANK_DIRS",
    "DataError",
    "DataLayout",
    "DataReport",
    "Example",
    "Pair",
    "crop_pair",
    "detect_layout",
    "features",
    "make_dataset",
    "mix_source",
    "pair_source",
    "prepare_clean",
    "prepare_pairs",
]
