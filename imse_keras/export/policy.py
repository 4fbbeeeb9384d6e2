"""Quantization policy: what a TFLite export stores and computes in which type.

A :class:`QuantizationPolicy` is a frozen value, independent of any model or
data; :func:`imse_keras.export.convert.convert_model` applies it. Four named
presets cover the supported modes:

=========  ============  ============  ========  ================================
name       weights       activations   I/O       notes
=========  ============  ============  ========  ================================
float32    float32       float32       float32   reference; matches Keras ~1e-5
float16    float16       float32       float32   half the size, float math
dynamic    int8          float32       float32   weights int8, hybrid kernels
int8       int8          int8 / fp32   float32   int8 body, float / hybrid else
=========  ============  ============  ========  ================================

The ``int8`` preset is *mixed* precision, chosen by measurement (see
``tflite/README.md``: ARM instructions per invoke, x86 CPU time, mask/phase
error and PESQ on vb_dev): int8 weights and int8 activations for the
gated-dconv FFNs of every transformer block (the five U-Net body stages and the
two output heads: both 1x1 convs, the depthwise convs, GELU and the gate), the
body stages' IDConv embeddings, the down/up samplers and the dense encoder's
four dilated 3x3 convs; float32 for the rest. Inside the int8 FFNs the GELU
computes in float (:data:`INT8_SPEED_FLOAT_OPS`): XNNPACK runs that as one int8
table lookup, faster than TFLite's int8 GELU kernel. MALA's own convolutions (qkvo,
lepe, proj) stay float: in int8 they cost output SNR and time (six DEQUANTIZE
per block feeding the float attention core). Float are also:

* MALA's attention core: its output ``(1 + 1 / gamma) * (q . KV)`` divides two
  quantities that are both tiny for a "silent" query; quantizing either one
  alone breaks their ratio (and an int8 DIV whose denominator rounds to zero
  crashes the interpreter: ``DIV`` is always kept float, :data:`INT8_FLOAT_OPS`);
* the normalisations (instance and layer norm: variance, RSQRT) and the
  residual stream between blocks, whose per-token scale varies by orders of
  magnitude;
* the two decoders' dense blocks and output convs: their activations are
  heavy-tailed (peak/RMS above 50), so one static int8 scale per tensor leaves
  them too few levels (all of their dense convs in int8: 13 dB mask SNR).
  Most of these convs (:data:`INT8_HYBRID_SCOPES`) are *hybrid* instead: int8
  filters on inputs quantized per pixel at run time, which keeps the levels a
  static scale loses and runs on XNNPACK's int8 kernels
  (:mod:`imse_keras.export.hybrid`).

The float ops' own weights are *stored* as float16 (``float_constants="float16"``)
and dequantized once when the model loads: LiteRT's XNNPACK delegate takes a
float16 constant filter as its own, but not an int8-stored one behind a
DEQUANTIZE (those ops then fall back to TFLite's slower builtin kernels: the
int8-storage variant, ``float_constants="int8"``, is 25 % smaller and about
1.5x slower; measured in ``tflite/README.md``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

__all__ = [
    "QuantizationPolicy", "POLICIES", "INT8_FLOAT_OPS", "INT8_SPEED_FLOAT_OPS", "INT8_BODY_SCOPES",
    "INT8_HYBRID_SCOPES", "get_policy",
]

_WEIGHT_TYPES = ("float32", "float16", "int8")
_ACTIVATION_TYPES = ("float32", "int8")

#: TFLite builtin op types every int8 policy leaves in float32.
INT8_FLOAT_OPS: tuple[str, ...] = ("DIV",)

#: Graph scopes (regexes over TFLite op names) the ``int8`` preset quantizes;
#: every other op stays float32.
INT8_BODY_SCOPES: tuple[str, ...] = (
    r"(^|/)(enc1|enc2|latent|dec2|dec1|mag_head|pha_head)_block\d(_\d+)?/ffn(_\d+)?/",
    r"(^|/)(enc1|enc2|latent|dec2|dec1)_embed(_\d+)?/",
    r"(^|/)(down|up)\d_(dw|pw|shuffle|unshuffle|concat|reduce)(_\d+)?/",
    # The dense encoder's four dilated 3x3 convs only: its concatenations,
    # instance norms and PReLUs stay float (int8 MEAN/RSQRT run on reference
    # kernels, and QUANTIZE of every growing concatenation costs more than it saves).
    r"(^|/)enc_dense(_\d+)?/conv\d",
)

#: Op types the ``int8`` preset computes in float32 for speed: an int8 GELU runs
#: on TFLite's reference lookup kernel outside XNNPACK, while XNNPACK takes the
#: float GELU between its DEQUANTIZE and QUANTIZE as one int8 table lookup.
INT8_SPEED_FLOAT_OPS: tuple[str, ...] = ("GELU",)

#: Float convs the ``int8`` preset makes dynamic-range ("hybrid"; int8 filters,
#: inputs quantized per pixel at run time): the two decoders' first three dense
#: convs, the heads' output convs and the encoder's strided (1, 3) conv. The
#: decoders' last dense convs stay float (hybrid too: 1.9 dB less mask SNR and
#: 1.5x the phase error; ``bench/int8_islands.py``, ``tflite/README.md``).
INT8_HYBRID_SCOPES: tuple[str, ...] = (
    r"(^|/)(maskdec|phadec)_dense(_\d+)?/conv[0-2]",
    r"(^|/)(mag|pha)_out_conv(_\d+)?/",
    r"(^|/)enc_conv2(_\d+)?/",
)


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
        int8_scopes: regexes over op names (the first name of a fused op): only
            matching ops are quantized, all others stay float32. Empty: every op
            is quantized except ``float_ops`` / ``float_nodes``.
        per_channel: per-output-channel weight scales (int8 weights, and
            int8-stored filters of float ops); else one scale per tensor.
        float_constants: storage of the float32 constants an int8 model keeps
            (weights of its float ops, RoPE tables): ``"float32"``, ``"float16"``,
            or ``"int8"`` (per-channel filters, per-tensor tables; see
            :func:`imse_keras.export.compact.store_constants`). Dequantized
            once at load time; the ops still compute in float32.
        hybrid_scopes: regexes over op names: the float CONV_2D ops among the
            matches become dynamic-range ("hybrid") convs, int8 per-channel
            filters on inputs quantized per pixel at run time
            (:mod:`imse_keras.export.hybrid`). Empty: none.
    """

    name: str
    weights: str = "float32"
    activations: str = "float32"
    io: str = "float32"
    float_ops: tuple[str, ...] = ()
    float_nodes: tuple[str, ...] = ()
    int8_scopes: tuple[str, ...] = ()
    per_channel: bool = True
    float_constants: str = "float32"
    hybrid_scopes: tuple[str, ...] = ()

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
        if self.float_constants not in _WEIGHT_TYPES:
            raise ValueError(f"float_constants must be one of {_WEIGHT_TYPES}. "
                             f"Received: float_constants={self.float_constants!r}")
        if (self.float_ops or self.float_nodes or self.int8_scopes or self.hybrid_scopes
                or self.float_constants != "float32") and self.activations != "int8":
            raise ValueError(
                "float_ops, float_nodes, int8_scopes, hybrid_scopes and float_constants "
                "apply to int8 activations only."
            )
        object.__setattr__(self, "float_ops", tuple(str(o).upper() for o in self.float_ops))
        object.__setattr__(self, "float_nodes", tuple(str(n) for n in self.float_nodes))
        for field in ("int8_scopes", "hybrid_scopes"):
            patterns = tuple(str(p) for p in getattr(self, field))
            object.__setattr__(self, field, patterns)
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as err:
                    raise ValueError(f"{field}: bad regex {pattern!r}: {err}") from None

    @property
    def needs_calibration(self) -> bool:
        """True when conversion needs a representative dataset."""
        return self.activations == "int8"

    def replace(self, **changes) -> "QuantizationPolicy":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for key in ("float_ops", "float_nodes", "int8_scopes", "hybrid_scopes"):
            d[key] = list(d[key])
        return d


POLICIES: dict[str, QuantizationPolicy] = {
    p.name: p
    for p in (
        QuantizationPolicy("float32"),
        QuantizationPolicy("float16", weights="float16"),
        QuantizationPolicy("dynamic", weights="int8"),
        QuantizationPolicy(
            "int8",
            weights="int8",
            activations="int8",
            io="float32",
            float_ops=INT8_FLOAT_OPS + INT8_SPEED_FLOAT_OPS,
            int8_scopes=INT8_BODY_SCOPES,
            per_channel=False,
            float_constants="float16",
            hybrid_scopes=INT8_HYBRID_SCOPES,
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
