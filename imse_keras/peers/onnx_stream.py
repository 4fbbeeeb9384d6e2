"""Streaming ONNX speech enhancers as peers: FastEnhancer, GTCRN, or any graph
that takes one STFT frame (or one hop of samples) plus caches per call.

Two graph layouts are run, frame by frame, with the caches as they ship (zeros
at the start, each output ``[1:]`` fed back to the matching cache input):

- ``spec``: input 0 is one frame ``[1, F, 1, 2]`` (real, imag) of
  ``torch.stft(x, n_fft, hop, window, center=True)`` with ``F = n_fft // 2 + 1``;
  output 0 is the enhanced frame, inverted with ``torch.istft(..., length=len(x))``.
  The STFT and its inverse run here (:mod:`imse_keras.dsp.stft`).
- ``wave``: input 0 is the next ``[1, hop]`` samples, output 0 ``[1, hop]``
  samples delayed by ``n_fft - hop`` (the STFT is inside the graph): the
  signal is fed with ``n_fft`` zeros after it and the delay cut off.

The STFT settings of the known families are recognised from the graph's inputs
(:func:`detect_stream`); any other graph needs them given (:class:`StftSettings`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imse_keras.peers.base import Peer, PeerUnavailable
from imse_keras.peers.baselines import EXTRA  # onnxruntime and onnx come with the peers extra
from imse_keras.quality.extras import MissingExtraError, require

__all__ = [
    "FASTENHANCER_SIZES",
    "OnnxStream",
    "StftSettings",
    "StreamLayout",
    "WINDOWS",
    "count_onnx_macs",
    "detect_stream",
    "onnx_peer",
    "parse_stft",
]

_SR = 16000
#: Window names accepted by :class:`StftSettings`.
WINDOWS = ("hann", "sqrt_hann")

#: FastEnhancer sizes by the ``[freq, channels]`` of their RNN caches
#: (``configs/fastenhancer/*.yaml`` upstream): ``(size, hop)``; n_fft 512, Hann.
FASTENHANCER_SIZES: dict[tuple[int, int], tuple[str, int]] = {
    (16, 20): ("T", 256),
    (24, 36): ("B", 256),
    (36, 48): ("S", 256),
    (48, 72): ("M", 160),
    (64, 96): ("L", 100),
}


@dataclass(frozen=True)
class StftSettings:
    """STFT around a streaming graph: ``n_fft`` (= window length), ``hop``, ``window``."""

    n_fft: int = 512
    hop: int = 256
    window: str = "hann"

    def __post_init__(self):
        if self.window not in WINDOWS:
            raise ValueError(f"unknown window {self.window!r}; choose from {', '.join(WINDOWS)}")
        if not 1 <= self.hop <= self.n_fft:
            raise ValueError(f"hop must be in [1, n_fft]. Received: hop={self.hop}, "
                             f"n_fft={self.n_fft}")

    def window_array(self) -> np.ndarray:
        """float64 ``[n_fft]``: periodic Hann, or its square root."""
        from imse_keras.dsp.stft import hann_window

        w = hann_window(self.n_fft).astype(np.float64)
        return np.sqrt(w) if self.window == "sqrt_hann" else w

    def __str__(self) -> str:
        return f"n_fft {self.n_fft}, hop {self.hop}, {self.window}"


def parse_stft(text: str) -> StftSettings:
    """``"N_FFT,HOP[,WINDOW]"`` (e.g. ``512,160,hann``) as :class:`StftSettings`.

    Raises:
        ValueError: a malformed text, with the expected form.
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        return StftSettings(int(parts[0]), int(parts[1]), *(parts[2:] or ["hann"]))
    except ValueError as err:
        detail = f": {err}" if str(err) else ""
        raise ValueError(f"STFT settings {text!r} are not N_FFT,HOP[,WINDOW] with WINDOW "
                         f"one of {', '.join(WINDOWS)}{detail}") from None


@dataclass(frozen=True)
class StreamLayout:
    """How one graph is called: ``layout`` (``spec`` or ``wave``), the STFT and
    the family it was recognised as (``""`` when given by the user)."""

    layout: str
    stft: StftSettings
    family: str = ""


def _static_shape(arg) -> tuple[int, ...]:
    if not all(isinstance(d, int) for d in arg.shape):
        raise ValueError(f"input {arg.name!r} has a dynamic shape {arg.shape}; a streaming "
                         "graph with fixed shapes is expected")
    return tuple(arg.shape)


def detect_stream(inputs, outputs, stft: StftSettings | None = None) -> StreamLayout:
    """Recognise a streaming graph from its inputs (``NodeArg`` of onnxruntime).

    Known: FastEnhancer spec2spec (``spec_in`` + ``cache_in_*``; size and hop
    from the caches' shape), FastEnhancer wav2wav (``wav_in``: hop from its
    shape, ``n_fft = hop + len(cache_in_0)``), GTCRN (``mix`` + ``conv_cache``,
    ``tra_cache``, ``inter_cache``: n_fft 512, hop 256, sqrt-Hann). Given
    ``stft`` overrides the recognised settings.

    Raises:
        ValueError: the graph is not a one-frame-per-call stream, or its STFT
            settings are unknown and not given.
    """
    if len(outputs) != len(inputs):
        raise ValueError(f"expected one output per input (frame + caches); the graph has "
                         f"{len(inputs)} inputs and {len(outputs)} outputs")
    first = _static_shape(inputs[0])
    caches = [(a.name, _static_shape(a)) for a in inputs[1:]]
    for (name, shape), out in zip(caches, outputs[1:]):
        if tuple(out.shape) != shape:
            raise ValueError(f"cache {name!r} {shape} does not match output {out.name!r} "
                             f"{tuple(out.shape)}")
    names = {a.name for a in inputs}
    if len(first) == 4 and first[0] == 1 and first[2] == 1 and first[3] == 2:
        layout, family, found = "spec", "", None
        if {"mix", "conv_cache", "tra_cache", "inter_cache"} <= names:
            family, found = "GTCRN", StftSettings(512, 256, "sqrt_hann")
        elif inputs[0].name == "spec_in" and caches and \
                all(n.startswith("cache_in_") and len(s) == 3 for n, s in caches):
            size = FASTENHANCER_SIZES.get(caches[0][1][1:])
            if size is not None:
                family, found = f"FastEnhancer-{size[0]}", StftSettings(512, size[1], "hann")
        stft = stft or found
        if stft is not None and first[1] != stft.n_fft // 2 + 1:
            raise ValueError(f"input frame has {first[1]} bins; n_fft {stft.n_fft} gives "
                             f"{stft.n_fft // 2 + 1}")
    elif len(first) == 2 and first[0] == 1:
        layout, family, found = "wave", "", None
        if inputs[0].name == "wav_in" and caches and len(caches[0][1]) == 2:
            n_fft = first[1] + caches[0][1][1]
            rnn = [s[1:] for n, s in caches if len(s) == 3]
            size = FASTENHANCER_SIZES.get(rnn[0]) if rnn else None
            family = f"FastEnhancer-{size[0]} (wav2wav)" if size else "FastEnhancer (wav2wav)"
            found = StftSettings(n_fft, first[1], "hann")
        stft = stft or found
        if stft is not None and first[1] != stft.hop:
            raise ValueError(f"input takes {first[1]} samples per call; hop is {stft.hop}")
    else:
        raise ValueError(f"input {inputs[0].name!r} {first} is neither one STFT frame "
                         "[1, F, 1, 2] nor one hop of samples [1, hop]")
    if stft is None:
        raise ValueError("not a known family (FastEnhancer, GTCRN): give its STFT settings "
                         "as N_FFT,HOP[,WINDOW] (--peer-stft)")
    return StreamLayout(layout, stft, family)


class OnnxStream:
    """One streaming ONNX graph run frame by frame on 16 kHz audio.

    Args:
        path: the ``.onnx`` file.
        stft: STFT settings; recognised from the graph when ``None``.
        num_threads: onnxruntime intra-op threads (1, as the peers were measured).

    Raises:
        MissingExtraError: onnxruntime is not installed.
        ValueError: the graph cannot be loaded or is not a recognised stream.
    """

    def __init__(self, path: str | os.PathLike, stft: StftSettings | None = None,
                 num_threads: int = 1):
        ort = require("onnxruntime", EXTRA)
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self.session = ort.InferenceSession(str(path), sess_options=options,
                                                providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own unrelated types
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"cannot load ONNX graph: {first}") from err
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        self.layout = detect_stream(inputs, outputs, stft)
        self._in_names = [a.name for a in inputs]
        self._out_names = [a.name for a in outputs]
        self._cache_shapes = [tuple(a.shape) for a in inputs[1:]]
        self._first_shape = tuple(inputs[0].shape)

    @property
    def stft(self) -> StftSettings:
        return self.layout.stft

    def _run_frames(self, frames: np.ndarray) -> np.ndarray:
        """``[T, *input0]`` float32 -> ``[T, *output0]``, caches carried across."""
        feed = {n: np.zeros(s, np.float32) for n, s in zip(self._in_names[1:],
                                                           self._cache_shapes)}
        out = np.empty_like(frames)
        first, run = self._in_names[0], self.session.run
        for t in range(frames.shape[0]):
            feed[first] = frames[t]
            result = run(self._out_names, feed)
            out[t] = result[0]
            for name, value in zip(self._in_names[1:], result[1:]):
                feed[name] = value
        return out

    def enhance(self, x: np.ndarray) -> np.ndarray:
        """``[n]`` float32 at 16 kHz -> ``[n]`` float32 (same length)."""
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        s = self.stft
        if self.layout.layout == "wave":
            delay = s.n_fft - s.hop
            total = x.size + s.n_fft
            total += (-total) % s.hop
            buf = np.zeros(total, np.float32)
            buf[: x.size] = x
            y = self._run_frames(buf.reshape(-1, 1, s.hop)).reshape(-1)
            return y[delay : delay + x.size]
        from imse_keras.dsp.stft import istft, stft

        if x.size <= s.n_fft // 2:  # too short to reflect-pad: zero-pad, cut back
            return self.enhance(np.pad(x, (0, s.n_fft // 2 + 1 - x.size)))[: x.size]
        window = s.window_array()
        spec = stft(x, s.n_fft, s.hop, window=window).T  # [T, F] complex (dsp.stft: torch's [F, T])
        frames = np.stack([spec.real, spec.imag], axis=-1).astype(np.float32)  # [T, F, 2]
        frames = np.ascontiguousarray(frames)[:, None, :, None, :]
        out = self._run_frames(frames)[:, 0, :, 0, :]  # [T, F, 2]
        spec_out = (out[..., 0] + 1j * out[..., 1]).T  # [F, T] for istft
        return istft(spec_out, s.n_fft, s.hop, length=x.size, window=window)


_MAC_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm", "GRU", "LSTM", "RNN")


def _runtime_shapes(model, names: list[str]) -> dict[str, tuple[int, ...]]:
    """Shapes of the tensors ``names`` in one call on zero inputs (static shape
    inference cannot follow the ``Shape``/``Range`` chains of some exports)."""
    import onnx
    import onnxruntime as ort

    known = {o.name for o in model.graph.output}
    for name in names:
        if name not in known:
            model.graph.output.append(
                onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
            known.add(name)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    feed = {a.name: np.zeros(a.shape, np.float32) for a in session.get_inputs()}
    outs = [o.name for o in session.get_outputs()]
    return {n: tuple(v.shape) for n, v in zip(outs, session.run(outs, feed))}


def count_onnx_macs(path: str | os.PathLike) -> int | None:
    """Multiply-accumulates of one call of a fixed-shape graph, ``None`` without ``onnx``.

    Counts convolutions (transposed too), matrix products and GRU/LSTM/RNN
    cells, not element-wise work or an in-graph DFT, as :mod:`imse_keras.macs`
    does for IMSE. Shapes are taken from one run on zero inputs.
    """
    try:
        import onnx
    except ImportError:
        return None
    model = onnx.load(str(path))
    weights = {t.name: tuple(t.dims) for t in model.graph.initializer}
    nodes = [n for n in model.graph.node if n.op_type in _MAC_OPS]
    wanted = {n.input[0] for n in nodes} | {n.output[0] for n in nodes}
    wanted |= {n.input[1] for n in nodes if n.input[1] not in weights}
    shapes = {**_runtime_shapes(model, sorted(wanted - set(weights))), **weights}
    total = 0
    for node in nodes:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        x, w, y = shapes[node.input[0]], shapes[node.input[1]], shapes[node.output[0]]
        if node.op_type == "Conv":  # w [Cout, Cin / groups, k...]
            total += int(np.prod(y)) * int(np.prod(w[1:]))
        elif node.op_type == "ConvTranspose":  # w [Cin, Cout / groups, k...]
            total += int(np.prod(x)) * int(np.prod(w[1:]))
        elif node.op_type in ("MatMul", "Gemm"):
            inner = x[-2] if node.op_type == "Gemm" and attrs.get("transA", 0) else x[-1]
            total += int(np.prod(y)) * inner
        else:  # x [seq, batch, in], w [dirs, gates * hidden, in], r [dirs, gates * hidden, hidden]
            r = shapes[node.input[2]]
            total += x[0] * x[1] * w[0] * w[1] * (w[2] + r[2])
    return total


def _count_params(path: str | os.PathLike) -> int | None:
    try:
        import onnx
    except ImportError:
        return None
    model = onnx.load(str(path), load_external_data=False)
    return int(sum(int(np.prod(t.dims)) for t in model.graph.initializer))


def onnx_peer(path: str | os.PathLike, name: str | None = None,
              stft: StftSettings | None = None, num_threads: int = 1) -> Peer:
    """A streaming ONNX enhancer as a :class:`~imse_keras.peers.base.Peer`.

    ``params`` counts every weight stored in the graph (GTCRN's fixed ERB
    filterbank matrices too) and ``macs_per_second`` is one call's MACs times
    calls per second; both are ``None`` without the ``onnx`` package.

    Raises:
        PeerUnavailable: the file is missing, onnxruntime is not installed, or
            the graph cannot be run (one-line reason).
    """
    path = Path(path)
    label = name or path.stem
    if not path.is_file():
        raise PeerUnavailable(f"{path}: ONNX model not found")
    try:
        stream = OnnxStream(path, stft=stft, num_threads=num_threads)
    except MissingExtraError as err:
        raise PeerUnavailable(str(err)) from err
    except ValueError as err:
        raise PeerUnavailable(f"{path.name}: {err}") from err
    s = stream.stft
    macs = count_onnx_macs(path)
    family = stream.layout.family or "given STFT"
    return Peer(
        label, stream.enhance, size_bytes=path.stat().st_size, params=_count_params(path),
        macs_per_second=None if macs is None else macs * _SR / s.hop,
        latency_ms=1000.0 * s.n_fft / _SR,
        note=f"{family}: ONNX {stream.layout.layout} graph frame by frame, {s}, "
             f"onnxruntime {num_threads} thread(s); size = .onnx file",
    )
