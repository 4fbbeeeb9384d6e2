"""Quantization policy: what a TFLite export stores and computes in which type.

A :class:`QuantizationPolicy` is a frozen value, independent of any model or
data; :func:`imse_keras.export.convert.convert_model` applies it. Four named
presets cover the supported modes:

=========  =========  ===========  ========  ===================================
name       weights    activations  I/O       notes
=========  =========  ===========  ========  ===================================
float32    float32    float32      float32   reference; matches Keras to ~1e-6
float16    float16    float32      float32   half the size, float math
dynamic    int8       float32      float32   weights int8, dequantised on the fly
int8       int8       int8         int8      full integer, needs calibration
=========  =========  ===========  ========  ===================================

The ``int8`` preset keeps a few op types in float (:data:`INT8_FLOAT_OPS`):
``DIV`` because MALA's ``1 / (gamma + 1e-6)`` with an int8 denominator that
rounds to zero crashes the interpreter, and the ops measured to carry most of
the int8 error (see ``tflite/README.md``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["QuantizationPolicy", "POLICIES", "INT8_FLOAT_OPS", "get_policy"]

_WEIGHT_TYPES = ("float32", "float16", "int8")
_ACTIVATION_TYPES = ("float32", "int8")

#: TFLite builtin op types the ``int8`` preset leaves in float32.
INT8_FLOAT_OPS: tuple[str, ...] = ("DIV",)


@dataclass(frozen=True)
class QuantizationPolicy:
    """How to store and compute an exported model.

    Attributes:
        name: the mode's name, written into the file name and the contract.
        weights: storage type of weights: ``float32``, ``float16`` or ``int8``.
        activations: compute type of activations: ``float32`` or ``int8``
            (``int8`` needs a representative dataset).
        io: type of the model's input and output tensors: ``float32``, or
            ``int8`` (only with int8 activations; the caller quantizes inputs
            and dequantizes outputs with the scales in the contract).
        float_ops: TFLite builtin op types (e.g. ``"DIV"``) kept in float32 in
            an int8 model, with QUANTIZE/DEQUANTIZE around them.
        float_nodes: output tensor names of single ops kept in float32.
        per_channel: per-output-channel weight scales (int8 weights).
    """

    name: str
    weights: str = "float32"
    activations: str = "float32"
    io: str = "float32"
    float_ops: tuple[str, ...] = ()
    float_nodes: tuple[str, ...] = ()
    per_channel: bool = True

    def __post_init__(self):
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(
                f"name must be a non-empty word (letters, digits, '-', '_'). Received: name={self.name!r}"
            )
        if self.weights not in _WEIGHT_TYPES:
            raise ValueError(f"weights must be one of {_WEIGHT_TYPES}. Received: weights={self.weights!r}")
        if self.activations not in _ACTIVATION_TYPES:
            raise ValueError(
                f"activations must be one of {_ACTIVATION_TYPES}. Received: activations={self.activations!r}"
            )
        if self.io not in _ACTIVATION_TYPES:
            raise ValueError(f"io must be one of {_ACTIVATION_TYPES}. Received: io={self.io!r}")
        if self.activations == "int8" and self.weights != "int8":
            raise ValueError(
                "int8 activations need int8 weights. Received: "
                f"weights={self.weights!r}, activations={self.activations!r}"
            )
        if self.io == "int8" and self.activations != "int8":
            raise ValueError("int8 I/O needs int8 activations. Received: "
                             f"activations={self.activations!r}")
        if (self.float_ops or self.float_nodes) and self.activations != "int8":
            raise ValueError("float_ops and float_nodes apply to int8 activations only.")
        object.__setattr__(self, "float_ops", tuple(str(o).upper() for o in self.float_ops))
        object.__setattr__(self, "float_nodes", tuple(str(n) for n in self.float_nodes))

    @property
    def needs_calibration(self) -> bool:
        """True when conversion needs a representative dataset."""
        return self.activations == "int8"

    def replace(self, **changes) -> "QuantizationPolicy":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["float_ops"], d["float_nodes"] = list(self.float_ops), list(self.float_nodes)
        return d


POLICIES: dict[str, QuantizationPolicy] = {
    p.name: p
    for p in (
        QuantizationPolicy("float32"),
        QuantizationPolicy("float16", weights="float16"),
        QuantizationPolicy("dynamic", weights="int8"),
        QuantizationPolicy(
            "int8", weights="int8", activations="int8", io="int8", float_ops=INT8_FLOAT_OPS
        ),
    )
}


def get_policy(policy: str | QuantizationPolicy) -> QuantizationPolicy:
    """A preset by name (``float32``, ``float16``, ``dynamic``, ``int8``), or pass one through."""
    if isinstance(policy, QuantizationPolicy):
        return policy
    try:
        return POLICIES[policy]
    except KeyError:
        raise ValueError(
            f"Unknown quantization mode {policy!r}. Available: {', '.join(POLICIES)}"
        ) from None
