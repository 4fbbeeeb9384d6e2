"""Reference-free quality scores (DNSMOS) and the optional-dependency helper."""

from imse_keras.quality.dnsmos import (
    DNSMOS_KEYS,
    dnsmos_available,
    dnsmos_scores,
    evaluate_no_reference,
)
from imse_keras.quality.extras import MissingExtraError, require

__all__ = [
    "DNSMOS_KEYS",
    "MissingExtraError",
    "dnsmos_available",
    "dnsmos_scores",
    "evaluate_no_reference",
    "require",
]
