"""TFLite/LiteRT export: policies, graph, conversion, contract, runner, validation, CLI.

Runs on the ``tiny`` preset with seeded random weights; every conversion
shares one SavedModel and one calibration run (the expensive steps). The
official-model checks are marked ``slow``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from imse_keras.config import get_config
from imse_keras.export.calibration import (
    CalibrationError,
    CalibrationSet,
    calibration_from_waveforms,
    segment_features,
)
from imse_keras.export.policy import POLICIES, QuantizationPolicy, get_policy
from imse_keras.export.runner import dequantize, quantize

# The TFLite calibrator runs the deprecated tf.lite.Interpreter internally.
pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")

SR = 16000
SEG = 30700
MODES = ("float32", "float16", "dynamic", "int8")

# Output SNR (dB) of each mode's raw outputs against the Keras export graph,
# on speech-like input, must exceed these. Measured on this tiny model (seeded
# weights, conftest.tiny_model), lowest output: float16 ~53 dB, dynamic ~29 dB,
# int8 ~22.5 dB (phase maps; 23.6 dB before the preset's hybrid convs). Across
# init seeds 0-3 those ranged 25.3-29.5 dB (dynamic) and 19.8-23.6 dB (int8;
# with the hybrid convs, seeds 0-2: 22.5, 19.0, 22.0 dB), hence the seed. A
# broken kernel or a mis-scaled input gives < 10 dB.
MIN_SNR_DB = {"float16": 45.0, "dynamic": 25.0, "int8": 18.0}
# Every op in int8 (int8 I/O too): measured 7.0 to 13.8 dB on the phase maps (int8
# roundings flip between runs and the network amplifies them) and 29.5 dB on the mask
# of this tiny model; raw int8 codes or a wrong input scale give well below 0 dB.
FULL_INT8_MIN_SNR_DB = 3.0


def _speechy(n, seed=0, snr_db=15.0):
    """Harmonic 'voice' with syllable-rate AM, plus white noise; clean and noisy."""
    from imse_keras.synth.harmonic import harmonic_pair

    return harmonic_pair(n, seed=seed, snr_db=snr_db, sample_rate=SR)


def _snr(ref, test):
    return 10 * math.log10(np.sum(ref.astype(np.float64) ** 2) / max(np.sum((ref - test) ** 2.0), 1e-30))


# === Fixtures: one SavedModel, one calibration (tiny_model: conftest) ======


@pytest.fixture(scope="module")
def export_graph(tiny_model):
    return tiny_model.export_graph()


@pytest.fixture(scope="module")
def features():
    """Eval inputs ``[2, T, F]`` from two noisy signals (not the calibration ones)."""
    mags, phas = [], []
    for seed in (11, 12):
        m, p = segment_features(_speechy(SEG, seed=seed)[1], "tiny")
        mags.append(m)
        phas.append(p)
    return np.concatenate(mags), np.concatenate(phas)


@pytest.fixture(scope="module")
def calibration():
    waves = [_speechy(40000, seed=s, snr_db=snr)[1] for s, snr in ((1, 5.0), (2, 15.0))]
    return calibration_from_waveforms(waves, "tiny", count=3, seed=0, info={"source": "test"})


@pytest.fixture(scope="module")
def saved_graph(export_graph, tmp_path_factory):
    from imse_keras.export.convert import save_graph

    return save_graph(export_graph, tmp_path_factory.mktemp("saved"))


@pytest.fixture(scope="module")
def calibrated(saved_graph, calibration):
    from imse_keras.export.convert import calibrate

    return calibrate(saved_graph, calibration)


@pytest.fixture(scope="module")
def converted(export_graph, saved_graph, calibration, calibrated):
    from imse_keras.export.convert import convert_model

    return {
        mode: convert_model(
            export_graph, mode, calibration if mode == "int8" else None,
            calibrated=calibrated if mode == "int8" else None, saved_model=saved_graph,
        )
        for mode in MODES
    }


@pytest.fixture(scope="module")
def written(converted, tmp_path_factory):
    """Each mode's .tflite and .json in one folder."""
    from imse_keras.export.contract import build_contract, write_contract

    out = tmp_path_factory.mktemp("tflite")
    paths = {}
    for mode, result in converted.items():
        path = out / f"tiny_{mode}.tflite"
        path.write_bytes(result.model)
        contract = build_contract(result.model, model_file=path.name, policy=result.policy,
                                  config="tiny", source={"weights": "random-tiny"},
                                  calibration=result.calibration)
        write_contract(contract, path.with_suffix(".json"))
        paths[mode] = path
    return paths


# === Policy ================================================================


def test_presets_cover_the_four_modes():
    assert set(POLICIES) == set(MODES)
    assert get_policy("int8").needs_calibration and not get_policy("dynamic").needs_calibration
    assert "DIV" in get_policy("int8").float_ops  # the int8 DIV crash hazard
    assert get_policy(POLICIES["float16"]) is POLICIES["float16"]
    assert json.loads(json.dumps(get_policy("int8").to_dict()))["int8_scopes"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weights": "int4"},
        {"activations": "int8"},  # int8 activations need int8 weights
        {"io": "int8"},  # int8 I/O needs int8 activations
        {"float_ops": ("DIV",)},  # float islands only make sense in int8 models
        {"weights": "int8", "activations": "int8", "int8_scopes": ("(",)},
        {"weights": "int8", "hybrid_scopes": ("conv",)},  # hybrid convs live in int8 models
        {"weights": "int8", "activations": "int8", "hybrid_scopes": ("[",)},
        {"name": "bad name"},
    ],
)
def test_policy_rejects_inconsistent_settings(kwargs):
    with pytest.raises(ValueError):
        QuantizationPolicy(**{"name": "x", **kwargs})


def test_unknown_mode_lists_the_valid_ones():
    with pytest.raises(ValueError, match="float32, float16, dynamic, int8"):
        get_policy("int4")


# === Runner quantization helpers ===========================================


def test_quantize_rounds_half_away_from_zero_and_saturates():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1000.0, -1000.0])
    q = quantize(x, scale=1.0, zero_point=0)
    np.testing.assert_array_equal(q, [-3, -2, -1, 1, 2, 3, 127, -128])
    assert q.dtype == np.int8
    q = quantize(np.array([0.0, 0.1]), scale=0.1, zero_point=-10)
    np.testing.assert_array_equal(q, [-10, -9])
    np.testing.assert_allclose(dequantize(q, 0.1, -10), [0.0, 0.1], atol=1e-7)


# === Calibration data ======================================================


def test_calibration_matches_the_enhancer_front_end():
    from imse_keras.dsp.normalize import rms_normalize
    from imse_keras.dsp.stft import mag_pha_stft

    _, noisy = _speechy(SEG + 5000)
    mag, pha = segment_features(noisy, "tiny")
    assert mag.shape == (2, get_config("tiny").segment_frames, 256)  # last segment flush with the end
    x, _ = rms_normalize(noisy)
    ref_m, ref_p = mag_pha_stft(x[-SEG:], 510, 100, 0.3)  # torch's [F, T]
    np.testing.assert_allclose(mag[1], ref_m.T, atol=1e-6)
    np.testing.assert_allclose(pha[1], ref_p.T, atol=1e-6)


def test_calibration_subsamples_and_skips_silence(calibration):
    assert len(calibration) == 3 and calibration.info["segments_available"] == 4
    batch = next(calibration.representative_dataset())
    assert set(batch) == {"mag_c", "pha"} and batch["mag_c"].shape == (1, 308, 256)
    with pytest.raises(CalibrationError):
        calibration_from_waveforms([np.zeros(20000, np.float32)], "tiny")
    with pytest.raises(CalibrationError):
        CalibrationSet(np.zeros((0, 4, 4)), np.zeros((0, 4, 4)))


# === Export graph ==========================================================


def test_export_graph_is_the_keras_model(tiny_model, export_graph, features):
    """The export graph calls the model's own layers (no copy, no rewrite): the
    model's outputs are its head over the graph's (mask, phase_r, phase_i)."""
    import keras

    mag, pha = features
    mag_out, pha_out, _ = tiny_model.predict_on_batch([mag, pha])
    maps = keras.Model(tiny_model.inputs, [tiny_model.get_layer(n).output
                                           for n in ("phase_r", "phase_i")])
    r, i = maps.predict_on_batch([mag, pha])
    out = export_graph.predict_on_batch([mag, pha])
    np.testing.assert_allclose(mag * out["mask"], mag_out, atol=1e-5, rtol=1e-5)
    for key, ref in (("phase_r", r), ("phase_i", i)):
        np.testing.assert_allclose(out[key], ref, atol=1e-5 * np.abs(ref).max(), rtol=1e-5)
    # The head's atan2 of those maps is the model's phase; near (r, i) = 0 atan2
    # amplifies float rounding, so the angle error is weighted by |(r, i)|.
    err = np.abs(np.angle(np.exp(1j * (np.arctan2(out["phase_i"], out["phase_r"]) - pha_out))))
    assert np.sum(np.hypot(r, i) * err) / np.sum(np.hypot(r, i)) < 1e-5
    own = {id(w) for w in tiny_model.weights}
    assert export_graph.weights and all(id(w) in own for w in export_graph.weights)


def test_export_rejects_bad_frames_and_a_foreign_config(tiny_model, tmp_path):
    from imse_keras.export.pipeline import export_tflite

    with pytest.raises(ValueError, match="multiple of 4"):
        tiny_model.export_graph(num_frames=30)
    with pytest.raises(ValueError, match="not the model's own"):
        export_tflite(tiny_model, "float32", tmp_path, config="imse")
    assert not list(tmp_path.iterdir())


# === Conversion ============================================================


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_is_builtin_only(converted, mode):
    summary = converted[mode].summary
    assert summary.custom_ops == ()
    assert not any(op.startswith("CUSTOM") for op in summary.op_counts)
    assert summary.num_subgraphs == 1


def test_float32_matches_keras_within_1e4(converted, export_graph, tiny_model, features):
    from imse_keras.export.runner import LiteRTModel

    mag, pha = features
    ref = export_graph.predict_on_batch([mag, pha])
    out = LiteRTModel(converted["float32"].model).run_frames_first(mag, pha)
    for key in ref:  # within 1e-4 of the output's scale
        assert np.max(np.abs(out[key] - ref[key])) <= 1e-4 * np.max(np.abs(ref[key])), key
    # Called like the Keras model, the magnitude branch matches too.
    mag_out, _, _ = tiny_model.predict_on_batch([mag, pha])
    mag_lite, _, com = LiteRTModel(converted["float32"].model)([mag, pha])
    assert np.max(np.abs(mag_lite - mag_out)) <= 1e-4 * np.max(np.abs(mag_out))
    assert com.shape == mag_lite.shape + (2,)


@pytest.mark.parametrize("mode", ("float16", "dynamic", "int8"))
def test_quantized_modes_stay_within_their_measured_bound(converted, export_graph, features, mode):
    from imse_keras.export.runner import LiteRTModel

    mag, pha = features
    ref = export_graph.predict_on_batch([mag, pha])
    out = LiteRTModel(converted[mode].model).run_frames_first(mag, pha)
    for key in ref:
        assert np.all(np.isfinite(out[key]))
        assert _snr(ref[key], out[key]) > MIN_SNR_DB[mode], (mode, key)


def test_int8_is_mostly_integer_and_smaller(converted):
    int8 = converted["int8"]
    counts = int8.summary.op_counts
    assert counts.get("QUANTIZE", 0) > 0
    float_convs = int8.summary.float_op_counts.get("CONV_2D", 0)
    assert float_convs < counts["CONV_2D"]  # the body's convs run in int8
    assert int8.summary.float_op_counts.get("DIV", 0) == counts.get("DIV", 0)  # DIV kept float
    assert len(int8.model) < 0.75 * len(converted["float32"].model)


def _weight_bytes(model: bytes) -> tuple[dict[str, int], int]:
    """Bytes of constant data by tensor type name, and the largest float32 constant (bytes)."""
    from ai_edge_litert import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    out: dict[str, int] = {}
    largest_float32 = 0
    for tensor in parsed.subgraphs[0].tensors:
        data = parsed.buffers[tensor.buffer].data
        if data is not None and len(data):
            out[names[tensor.type]] = out.get(names[tensor.type], 0) + len(data)
            if names[tensor.type] == "FLOAT32":
                largest_float32 = max(largest_float32, len(data))
    return out, largest_float32


def test_compaction_is_bit_identical_and_smaller(export_graph, saved_graph, features):
    """Dropping names and sharing shape vectors / options changes no output bit."""
    from imse_keras.export.compact import compact_model
    from imse_keras.export.convert import convert_model
    from imse_keras.export.runner import LiteRTModel

    raw = convert_model(export_graph, "float32", saved_model=saved_graph, compact=False).model
    small = compact_model(raw)
    assert len(small) < 0.9 * len(raw)
    mag, pha = features
    a = LiteRTModel(raw).run_frames_first(mag, pha)
    b = LiteRTModel(small).run_frames_first(mag, pha)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def _float_op_filters(model: bytes) -> list[tuple[str, str]]:
    """(op, how its filter is stored) for every float CONV_2D / DEPTHWISE_CONV_2D /
    FULLY_CONNECTED: ``"FLOAT32"`` (a constant), ``"DEQUANTIZE<-FLOAT16"`` /
    ``"DEQUANTIZE<-INT8"`` (a constant unpacked at load), or ``"computed"``."""
    from ai_edge_litert import schema_py_generated as schema

    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    ops_by = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    graph = parsed.subgraphs[0]

    def op_type(op):
        code = parsed.operatorCodes[op.opcodeIndex]
        return ops_by[max(int(code.builtinCode), int(code.deprecatedBuiltinCode))]

    producer = {int(o): op for op in graph.operators for o in op.outputs}
    out = []
    for op in graph.operators:
        kind = op_type(op)
        if kind not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        if types[graph.tensors[int(op.outputs[0])].type] != "FLOAT32":
            continue
        filt = int(op.inputs[1])
        if filt in producer:
            src = producer[filt]
            origin = types[graph.tensors[int(src.inputs[0])].type]
            out.append((kind, f"{op_type(src)}<-{origin}" if op_type(src) == "DEQUANTIZE"
                        else "computed"))
        else:
            out.append((kind, types[graph.tensors[filt].type]))
    return out


def test_int8_float_ops_keep_filters_xnnpack_can_take(converted, export_graph, features,
                                                      saved_graph, calibrated, calibration):
    """The int8 preset's float convolutions read float16 (or float32) constant
    filters, which XNNPACK takes, or int8 ones of their own (the hybrid convs);
    int8-stored filters behind DEQUANTIZE are not taken (TFLite falls back to
    its own slower kernels), so the preset never writes them. The smaller
    int8-storage variant stays available and within a few dB of it."""
    from imse_keras.export.convert import convert_model
    from imse_keras.export.runner import LiteRTModel

    int8 = converted["int8"].model
    filters = _float_op_filters(int8)
    assert filters and all(how in ("FLOAT32", "DEQUANTIZE<-FLOAT16", "INT8")
                           for _, how in filters), sorted(set(filters))
    stored, largest_float32 = _weight_bytes(int8)
    assert largest_float32 < 4 * 16  # only scalars and small biases stay float32
    small = convert_model(export_graph, get_policy("int8").replace(float_constants="int8"),
                          calibration, calibrated=calibrated, saved_model=saved_graph).model
    assert any(how == "DEQUANTIZE<-INT8" for _, how in _float_op_filters(small))
    assert len(small) < len(int8)
    mag, pha = features
    ref = export_graph.predict_on_batch([mag, pha])
    out16 = LiteRTModel(int8).run_frames_first(mag, pha)
    out8 = LiteRTModel(small).run_frames_first(mag, pha)
    for key in ref:
        assert _snr(ref[key], out8[key]) > _snr(ref[key], out16[key]) - 3.0, key


def _hybrid_convs(model: bytes) -> list[dict]:
    """Every CONV_2D with a float32 input and an int8 filter: its filter's scale
    count and axis, and how its bias is stored."""
    from ai_edge_litert import schema_py_generated as schema

    from imse_keras.export.flatbuffer import op_types

    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    kinds = op_types(parsed)
    graph = parsed.subgraphs[0]
    out = []
    for op in graph.operators:
        if kinds[op.opcodeIndex] != "CONV_2D":
            continue
        x, w, bias = (graph.tensors[int(i)] for i in op.inputs[:3])
        if types[x.type] != "FLOAT32" or types[w.type] != "INT8":
            continue
        data = parsed.buffers[bias.buffer].data
        out.append({
            "out_channels": int(w.shape[0]),
            "scales": len(w.quantization.scale),
            "axis": int(w.quantization.quantizedDimension),
            "zero_points": set(int(z) for z in w.quantization.zeroPoint),
            "bias": types[bias.type] if data is not None and len(data) else "computed",
            "output": types[graph.tensors[int(op.outputs[0])].type],
        })
    return out


def test_int8_hybrid_convs_are_what_xnnpack_runs_as_dynamic_range(converted, features):
    """The preset's hybrid convs (tiny: the two decoders' two dense convs, the
    heads' output convs, the encoder's strided conv) read an int8 filter with
    one symmetric scale per output channel and a float32 constant bias; the
    model loads with them on XNNPACK and stays within the int8 bound
    (test_quantized_modes_stay_within_their_measured_bound)."""
    from imse_keras.export.runner import LiteRTModel

    hybrid = _hybrid_convs(converted["int8"].model)
    assert len(hybrid) == 2 * 2 + 2 + 1, hybrid
    for conv in hybrid:
        assert conv["scales"] == conv["out_channels"] and conv["axis"] == 0, conv
        assert conv["zero_points"] == {0} and conv["bias"] == "FLOAT32", conv
        assert conv["output"] == "FLOAT32", conv
    assert not _hybrid_convs(converted["float32"].model)
    mag, pha = features
    out = LiteRTModel(converted["int8"].model).run_frames_first(mag, pha)
    assert all(np.all(np.isfinite(v)) for v in out.values())


def test_hybrid_scope_that_matches_nothing_is_an_error(calibrated):
    from imse_keras.export.convert import ExportError, quantize_calibrated
    from imse_keras.export.hybrid import make_hybrid

    quantized = quantize_calibrated(calibrated, get_policy("int8"))
    with pytest.raises(ExportError, match="matched no float CONV_2D"):
        make_hybrid(quantized, ("no_such_layer",))
    # A scope over int8 convs only (the FFNs) matches no *float* conv either.
    with pytest.raises(ExportError, match="matched no float CONV_2D"):
        make_hybrid(quantized, (r"/ffn(_\d+)?/",))


def test_int8_needs_calibration(export_graph):
    from imse_keras.export.convert import convert_model

    with pytest.raises(ValueError, match="calibration"):
        convert_model(export_graph, "int8")


def test_int8_scope_that_matches_nothing_is_an_error(calibrated):
    from imse_keras.export.convert import ExportError, quantize_calibrated

    policy = get_policy("int8").replace(int8_scopes=("no_such_layer",))
    with pytest.raises(ExportError, match="matched no op"):
        quantize_calibrated(calibrated, policy)


def test_full_integer_io_is_quantized_by_the_runner(export_graph, saved_graph, calibrated,
                                                    features):
    """A fully int8 graph with int8 inputs: the runner quantizes with the model's scales."""
    from imse_keras.export.convert import convert_model
    from imse_keras.export.runner import LiteRTModel

    policy = QuantizationPolicy("int8full", weights="int8", activations="int8", io="int8",
                                float_ops=("DIV",))
    result = convert_model(export_graph, policy, calibrated=calibrated, saved_model=saved_graph)
    runner = LiteRTModel(result.model)
    assert runner.io_dtype is np.int8
    scale, zero_point = runner.input_details["pha"]["quantization"]
    assert scale > 0
    mag, pha = features
    out = runner.run_frames_first(mag[:1], pha[:1])
    ref = export_graph.predict_on_batch([mag[:1], pha[:1]])
    for key in ref:  # every op in int8: coarse, but far from garbage
        assert _snr(ref[key], out[key]) > FULL_INT8_MIN_SNR_DB, key


def test_flex_ops_fail_the_export():
    import tensorflow as tf

    from imse_keras.export.convert import ExportError, check_builtin_only

    class Angle(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([4], tf.float32)] * 2)
        def __call__(self, x, y):
            return tf.math.angle(tf.complex(x, y))

    module = Angle()
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.__call__.get_concrete_function()], module
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                           tf.lite.OpsSet.SELECT_TF_OPS]
    with pytest.raises(ExportError, match="Flex"):
        check_builtin_only(converter.convert())


# === Contract ==============================================================


@pytest.mark.parametrize("mode", MODES)
def test_contract_is_complete(written, mode):
    from imse_keras.export.contract import read_contract

    contract = read_contract(written[mode].with_suffix(".json"))
    cfg = get_config("tiny")
    fe = contract["front_end"]
    assert (fe["sample_rate"], fe["n_fft"], fe["hop_length"], fe["segment_samples"],
            fe["segment_frames"], fe["compress_factor"]) == (16000, 510, 100, SEG, 308, 0.3)
    assert contract["mode"] == mode and contract["policy"]["name"] == mode
    assert contract["model"]["file"] == written[mode].name
    assert contract["model"]["size_bytes"] == written[mode].stat().st_size
    assert [t["name"] for t in contract["inputs"]] == ["mag_c", "pha"]
    assert [t["name"] for t in contract["outputs"]] == ["mask", "phase_r", "phase_i"]
    for tensor in contract["inputs"] + contract["outputs"]:
        assert tensor["shape"] == [1, cfg.segment_frames, cfg.num_freqs]
        assert tensor["dtype"] in ("float32", "int8")
        assert (tensor["quantization"] is not None) == (tensor["dtype"] == "int8")
    assert {"tensorflow-cpu", "keras", "ai-edge-litert", "numpy"} <= set(contract["versions"]) or (
        {"tensorflow", "keras", "ai-edge-litert", "numpy"} <= set(contract["versions"])
    )
    assert contract["source"]["weights"] == "random-tiny"
    assert contract["ops"]["custom_ops"] == []
    assert (contract["calibration"] is not None) == (mode == "int8")


def test_incomplete_contract_is_rejected(written, tmp_path):
    from imse_keras.export.contract import ContractError, read_contract

    contract = json.loads(written["int8"].with_suffix(".json").read_text())
    del contract["front_end"]["hop_length"]
    contract["calibration"] = None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(contract))
    with pytest.raises(ContractError, match="hop_length.*calibration"):
        read_contract(bad)


# === Runner ================================================================


@pytest.fixture(scope="module")
def dynamic_runs(tiny_model):
    """A dynamic-T float export of the tiny model, fed T = 64, 100, 308, 64 with
    batches 1, 3, 2, 1 (one conversion for the tests below): ``(runner,
    [(Keras outputs, LiteRT outputs), ...], last (mag_c, pha))``."""
    from imse_keras.export.convert import convert_model
    from imse_keras.export.runner import LiteRTModel

    graph = tiny_model.export_graph(num_frames=0)
    runner = LiteRTModel(convert_model(graph, "float32").model)
    rng = np.random.default_rng(5)
    runs = []
    for batch, frames in ((1, 64), (3, 100), (2, 308), (1, 64)):
        mag = rng.uniform(0, 2, (batch, frames, 256)).astype("float32")
        pha = rng.uniform(-np.pi, np.pi, (batch, frames, 256)).astype("float32")
        runs.append((tiny_model.predict_on_batch([mag, pha]), runner([mag, pha])))
    return runner, runs, (mag, pha)


def test_runner_handles_lengths_and_batches(dynamic_runs):
    """A dynamic-T float export runs at any multiple of 4 frames and any batch,
    with the Keras model's output shapes; its first call matches Keras."""
    runner, runs, (mag, pha) = dynamic_runs
    assert runner.num_frames is None
    for ref, out in runs:
        assert [o.shape for o in out] == [r.shape for r in ref]
        assert all(np.all(np.isfinite(o)) for o in out)
    ref, out = runs[0]
    assert np.max(np.abs(out[0] - ref[0])) <= 1e-4 * np.max(np.abs(ref[0]))
    with pytest.raises(ValueError, match="multiple of 4"):
        runner.spectral(mag[:, :30], pha[:, :30])


@pytest.mark.xfail(strict=False, reason=(
    "LiteRT 2.3: a dynamic-T .tflite sometimes computes a wrong T = 308 call after "
    "T = 64 and 100 (same file, same inputs; about a third of runs on a busy machine, "
    "with 1 or 2 threads; the Keras model is right). Fixed-T exports are not affected. "
    "Open: see README, Known limits."))
def test_dynamic_runner_matches_keras_after_reshapes(dynamic_runs):
    _, runs, _ = dynamic_runs
    for ref, out in runs:
        assert np.max(np.abs(out[0] - ref[0])) <= 1e-4 * np.max(np.abs(ref[0]))


def test_fixed_length_runner_refuses_other_lengths(written):
    from imse_keras.export.runner import LiteRTModel

    runner = LiteRTModel(written["float32"], num_threads=1)
    assert runner.num_frames == 308
    with pytest.raises(ValueError, match="exported for T=308"):
        runner.spectral(np.zeros((1, 64, 256), np.float32), np.zeros((1, 64, 256), np.float32))
    with pytest.raises(FileNotFoundError):
        LiteRTModel(written["float32"].with_name("missing.tflite"))


@pytest.mark.parametrize(
    "signal",
    [
        np.zeros(20000, np.float32),  # silence
        np.random.default_rng(3).uniform(-1, 1, 50000).astype(np.float32),  # full-scale noise
        np.ones(50000, np.float32),  # DC at full scale
        np.array([0.5], np.float32),  # one sample
    ],
    ids=["silence", "full_scale_noise", "full_scale_dc", "one_sample"],
)
def test_int8_survives_extreme_inputs(written, signal):
    from imse_keras.enhance import Enhancer
    from imse_keras.export.runner import tflite_backend

    enhancer = Enhancer(tflite_backend(written["int8"], num_threads=1), "tiny", overlap="crossfade")
    y = enhancer.enhance_waveform(signal)
    assert y.shape == signal.shape and np.all(np.isfinite(y))
    if not np.any(signal):
        assert np.all(y == 0)


def test_tflite_and_keras_backends_share_the_front_end(tiny_model, written):
    from imse_keras.enhance import Enhancer
    from imse_keras.export.runner import tflite_backend

    _, noisy = _speechy(SEG + 7000, seed=4)
    a = Enhancer.from_model(tiny_model, "tiny", overlap="crossfade").enhance_waveform(noisy)
    b = Enhancer(tflite_backend(written["float32"]), "tiny", overlap="crossfade").enhance_waveform(noisy)
    assert a.shape == b.shape and _snr(a, b) > 60


def test_enhance_cli_tflite_backend(tiny_model, written, tmp_path):
    """`imse enhance --backend tflite` gives the Keras backend's output (float32
    export) through the same file path, without loading any weights."""
    from click.testing import CliRunner

    from imse_keras.audio_io import read_audio, write_audio
    from imse_keras.cli import main
    from imse_keras.enhance import Enhancer

    _, noisy = _speechy(SEG + 9000, seed=6)
    src = tmp_path / "noisy.wav"
    write_audio(src, noisy, SR, subtype="FLOAT")
    out = tmp_path / "out.wav"
    args = ["enhance", str(src), "-o", str(out), "--preset", "tiny", "--quiet",
            "--backend", "tflite", "--model", str(written["float32"]), "--no-download"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    got = read_audio(out).samples[:, 0]
    want = Enhancer.from_model(tiny_model, "tiny", overlap="crossfade").enhance_waveform(noisy)
    assert got.shape == want.shape and _snr(want, got) > 60

    missing = CliRunner().invoke(main, args[:-5] + ["--backend", "tflite"])
    assert missing.exit_code == 2 and "--model" in missing.output
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer")
    broken = CliRunner().invoke(main, args[:-2] + [str(bad), "--no-download"])
    assert broken.exit_code == 1 and "cannot load" in broken.output
    assert read_audio(out).samples.shape[0] == len(noisy)  # the earlier output is intact


# === Validation ============================================================


@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory):
    """Two synthetic-speech pairs (eSpeak NG) at 30 dB SNR: PESQ of the noisy
    input is about 3, far above the 1.0 floor, so a broken output shows."""
    pytest.importorskip("espeakng_loader")
    from imse_keras.audio_io import write_audio
    from imse_keras.synth import make_pair

    root = tmp_path_factory.mktemp("pairs")
    for i in range(2):
        clean, noisy = make_pair(seed=3 + i, snr_db=30.0, noise="pink")
        write_audio(root / "clean" / f"u{i}.wav", clean, SR, subtype="PCM_16")
        write_audio(root / "noisy" / f"u{i}.wav", noisy, SR, subtype="PCM_16")
    return root


def test_validate_raises_when_the_bound_is_exceeded(pair_dir, tmp_path):
    from imse_keras.metrics.evaluate import pair_files
    from imse_keras.export.validate import ValidationError, validate_model

    pairs = pair_files(pair_dir / "clean", pair_dir / "noisy")
    rng = np.random.default_rng(0)

    def passthrough(x):
        return x

    def broken(x):  # a deliberately broken "model": the input buried in noise
        return (x + 0.5 * np.std(x) * rng.standard_normal(len(x))).astype(np.float32)

    ok = validate_model(pairs, passthrough, passthrough, max_pesq_drop=0.0)
    assert ok.passed and ok.pesq_drop == 0.0 and ok.mean["snr_db"] == math.inf
    ok.check()
    bad = validate_model(pairs, passthrough, broken, max_pesq_drop=0.05, model="broken.tflite")
    assert not bad.passed and bad.pesq_drop > 0.05
    assert 0 < bad.mean["snr_db"] < 10
    with pytest.raises(ValidationError, match="exceeds the bound"):
        bad.check()
    js, md = bad.write(tmp_path / "broken")
    assert json.loads(js.read_text())["passed"] is False
    assert "| **mean** |" in md.read_text() and "FAIL" in md.read_text()
    assert "pesq_drop" in bad.table()


def test_validate_cli_exit_codes(tiny_model, written, pair_dir, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from imse_keras.cli.export import validate

    weights = tmp_path / "tiny.weights.h5"
    tiny_model.save_weights(weights)
    args = ["--clean", str(pair_dir / "clean"), "--noisy", str(pair_dir / "noisy"),
            "--model", str(written["float32"]), "--weights", str(weights), "--preset", "tiny",
            "--quiet", "-o", str(tmp_path / "r.json")]
    result = CliRunner().invoke(validate, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] and abs(report["mean"]["pesq_drop"]) < 0.01
    assert report["mean"]["snr_db"] > 40

    # Against a good reference (the noisy input passed through; PESQ ~3), the
    # random-weight tiny model is a deliberately broken one (PESQ ~1).
    from imse_keras import enhance

    monkeypatch.setattr(enhance, "keras_backend", lambda model: lambda mag, pha: (mag, pha))
    md = tmp_path / "r.md"
    result = CliRunner().invoke(validate, args + ["-o", str(md)])
    assert result.exit_code == 1
    assert "exceeds --max-pesq-drop 0.05" in result.output and "FAIL" in md.read_text()


def test_export_cli_writes_model_and_contract(tiny_model, tmp_path):
    from click.testing import CliRunner

    from imse_keras.cli.export import export

    weights = tmp_path / "tiny.weights.h5"
    tiny_model.save_weights(weights)
    out = tmp_path / "tflite"
    result = CliRunner().invoke(
        export, ["--mode", "float16", "--weights", str(weights), "--preset", "tiny",
                 "-o", str(out), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (out / "tiny_float16.tflite").is_file() and (out / "tiny_float16.json").is_file()
    contract = json.loads((out / "tiny_float16.json").read_text())
    assert contract["source"]["sha256"] and contract["mode"] == "float16"
    # Usage errors exit 2 before any work.
    result = CliRunner().invoke(export, ["--mode", "int8", "--preset", "tiny"])
    assert result.exit_code == 2 and "--calib" in result.output
    result = CliRunner().invoke(export, ["--mode", "float32", "--float-weights", "int8"])
    assert result.exit_code == 2 and "int8 only" in result.output


@pytest.mark.slow  # two exports + validation, ~50 s; `validate` exit codes and `export` stay in the default run
def test_export_cli_validates_right_after_export(tiny_model, pair_dir, tmp_path, monkeypatch):
    """`imse export --validate DIR` writes the report beside the model; a bound the
    model cannot meet fails the command (exit 1) but keeps the model and report."""
    from click.testing import CliRunner

    from imse_keras.cli.export import export

    weights = tmp_path / "tiny.weights.h5"
    tiny_model.save_weights(weights)
    out = tmp_path / "tflite"
    args = ["--mode", "float16", "--weights", str(weights), "--preset", "tiny",
            "-o", str(out), "--validate", str(pair_dir), "--quiet"]
    result = CliRunner().invoke(export, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "tiny_float16.validation.json").read_text())
    assert report["passed"] and report["mean"]["n"] == 2
    assert abs(report["mean"]["pesq_drop"]) < 0.05 and report["mean"]["snr_db"] > 30
    assert "| **mean** |" in (out / "tiny_float16.validation.md").read_text()

    failed = CliRunner().invoke(export, args + ["--max-pesq-drop", "-0.5"])
    assert failed.exit_code == 2  # a negative bound is a usage error
    # Against a good reference (the noisy input passed through; PESQ ~3), the
    # random-weight tiny model is a deliberately broken one (PESQ ~1): a known failure.
    from imse_keras import enhance

    monkeypatch.setattr(enhance, "keras_backend", lambda model: lambda mag, pha: (mag, pha))
    failed = CliRunner().invoke(export, args[:-1] + ["--name", "strict", "--quiet"])
    assert (out / "strict.tflite").is_file() and (out / "strict.validation.json").is_file()
    assert failed.exit_code == 1  # the tiny model is worse than the noisy input (see below)
    strict = json.loads((out / "strict.validation.json").read_text())
    assert strict["passed"] is False and strict["mean"]["pesq_drop"] > 0.05


# === Official model ========================================================


def test_official_float32_matches_keras_within_1e4(official_model, shared_dir):
    """The model you load is the model you export, at official size and
    weights: the lean graph (MALA without GATHER/TRANSPOSE, per-axis RoPE
    tables, decoders without shuffle or strided slice) gives every TFLite
    float32 output within 1e-4 of its scale of the Keras model's own core (whose
    head gives the full model's outputs: test_export_graph_is_the_keras_model), on
    the first segment of a real vb_dev file. One official-size conversion (~60 s)."""
    from imse_keras.audio_io import read_audio
    from imse_keras.export.convert import convert_model
    from imse_keras.export.runner import LiteRTModel

    audio = read_audio(shared_dir / "audio/vb_dev/noisy/p232_003.wav")
    mag, pha = segment_features(audio.samples.mean(axis=1)[:SEG], "imse")
    graph = official_model.export_graph()
    result = convert_model(graph, "float32")
    counts = result.summary.op_counts
    assert "GATHER" not in counts and "STRIDED_SLICE" not in counts
    # The four body pixel (un)shuffles' two each, and two per IDConv embedding
    # (its width branch runs on [.., F, k*g] lanes).
    assert counts.get("TRANSPOSE", 0) <= 8 + 2 * 7
    ref = graph.predict_on_batch([mag, pha])
    out = LiteRTModel(result.model, num_threads=1).run_frames_first(mag, pha)
    for key in ref:
        assert np.max(np.abs(out[key] - ref[key])) <= 1e-4 * np.max(np.abs(ref[key])), key


# === Official model (slow) =================================================


@pytest.mark.slow
def test_official_int8_validates_on_vb_dev(official_model, shared_dir, tmp_path):
    """int8 of g_best_pesq_3.399, calibrated on synthetic speech (not vb_dev),
    loses at most 0.05 mean PESQ-WB on a few vb_dev files (full check: README)."""
    pytest.importorskip("espeakng_loader")
    from imse_keras.enhance import Enhancer
    from imse_keras.metrics.evaluate import pair_files
    from imse_keras.export.calibration import synthesize_calibration_audio
    from imse_keras.export.pipeline import export_tflite
    from imse_keras.export.runner import tflite_backend
    from imse_keras.export.validate import validate_model

    waves, _ = synthesize_calibration_audio(6, seed=1000)
    calibration = calibration_from_waveforms(waves, "imse", count=16)
    art = export_tflite(official_model, "int8", tmp_path, calibration=calibration)
    pairs = pair_files(shared_dir / "audio/vb_dev/clean", shared_dir / "audio/vb_dev/noisy")[:5]
    ref = Enhancer.from_model(official_model, overlap="crossfade").enhance_waveform
    cand = Enhancer(tflite_backend(art.model_path), overlap="crossfade").enhance_waveform
    validate_model(pairs, ref, cand, max_pesq_drop=0.05).check()
