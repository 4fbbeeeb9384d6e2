"""Names of the export graph's inputs and outputs (shared by graph, runner and contract).

Kept free of TensorFlow and Keras imports so that the LiteRT runner works in a
runtime-only environment (``ai-edge-litert`` and numpy).
"""

from __future__ import annotations

__all__ = ["EXPORT_INPUTS", "EXPORT_OUTPUTS", "SIGNATURE_KEY"]

#: Input names, in order; each ``[1, T, F]``: compressed magnitude, phase (radians).
EXPORT_INPUTS = ("mag_c", "pha")
#: Output names, in order; each ``[1, T, F]``: magnitude mask, phase decoder's r and i maps.
EXPORT_OUTPUTS = ("mask", "phase_r", "phase_i")
#: The signature every export carries.
SIGNATURE_KEY = "serving_default"
