"""Streaming ONNX peers: family recognition, frame-by-frame runs with caches,
length, cost counts, and the scores of ../shared/peers/README.md on vb_dev."""

from __future__ import annotations

import numpy as np
import pytest

from imse_keras.peers import PeerUnavailable, StftSettings, onnx_peer, parse_stft
from imse_keras.peers.onnx_stream import OnnxStream, count_onnx_macs

pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install imse-keras[peers])")

#: Families of the shipped graphs: (file, family, n_fft, hop, window, layout).
SHIPPED = [
    ("fastenhancer_t.spec.onnx", "FastEnhancer-T", 512, 256, "hann", "spec"),
    ("fastenhancer_s.spec.onnx", "FastEnhancer-S", 512, 256, "hann", "spec"),
    ("fastenhancer_m.spec.onnx", "FastEnhancer-M", 512, 160, "hann", "spec"),
    ("gtcrn_vb_stream.onnx", "GTCRN", 512, 256, "sqrt_hann", "spec"),
    ("fastenhancer_t.onnx", "FastEnhancer-T (wav2wav)", 512, 256, "hann", "wave"),
]


@pytest.fixture(scope="module")
def peers_dir(shared_dir):
    d = shared_dir / "peers"
    if not (d / "fastenhancer_t.spec.onnx").is_file():
        pytest.skip(f"{d}: the peer ONNX models (FastEnhancer, GTCRN) are not there")
    return d


@pytest.fixture(scope="module")
def vb_pair(shared_dir):
    from imse_keras.metrics.evaluate import load_mono_16k, pair_files

    vb = shared_dir / "audio" / "vb_dev"
    if not vb.is_dir():
        pytest.skip(f"{vb} not found")
    clean, noisy = pair_files(vb / "clean", vb / "noisy")[0]
    return load_mono_16k(clean), load_mono_16k(noisy)


def _onnx():
    return pytest.importorskip("onnx", reason="onnx not installed (pip install imse-keras[peers])")


def _graph(tmp_path, cache_shape=(1, 257, 1, 2), frame_shape=(1, 257, 1, 2), delay=True,
           name="frame"):
    """A tiny streaming graph. With ``delay``: output = the cache, new cache =
    the frame (a one-call delay, visible only if caches are fed back);
    otherwise output = frame and the cache passes through."""
    onnx = _onnx()
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, frame_shape),
              helper.make_tensor_value_info("c", TensorProto.FLOAT, cache_shape)]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, frame_shape),
               helper.make_tensor_value_info("c_out", TensorProto.FLOAT, cache_shape)]
    if delay:
        nodes = [helper.make_node("Identity", ["c"], ["y"]),
                 helper.make_node("Identity", [name], ["c_out"])]
    else:
        nodes = [helper.make_node("Identity", [name], ["y"]),
                 helper.make_node("Identity", ["c"], ["c_out"])]
    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "g.onnx"
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("file,family,n_fft,hop,window,layout", SHIPPED)
def test_shipped_families_are_recognised(peers_dir, file, family, n_fft, hop, window, layout):
    stream = OnnxStream(peers_dir / file)
    assert stream.layout.family == family
    assert stream.layout.layout == layout
    assert stream.stft == StftSettings(n_fft, hop, window)


@pytest.mark.parametrize("n", [100, 16000 + 37])
@pytest.mark.parametrize("file", ["fastenhancer_t.spec.onnx", "fastenhancer_t.onnx",
                                  "gtcrn_vb_stream.onnx"])
def test_output_length_equals_input(peers_dir, file, n):
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32) * 0.1
    y = onnx_peer(peers_dir / file)(x)
    assert y.shape == (n,) and y.dtype == np.float32 and np.all(np.isfinite(y))


def test_spec_and_wav2wav_exports_agree(peers_dir, vb_pair):
    """The same FastEnhancer-T as spec2spec (STFT here) and as wav2wav (STFT in
    the graph, output delayed by n_fft - hop): aligned, they agree to > 50 dB
    away from the edges (which differ: reflect padding against zeros)."""
    x = vb_pair[1][: 3 * 16000]
    a = onnx_peer(peers_dir / "fastenhancer_t.spec.onnx")(x)
    b = onnx_peer(peers_dir / "fastenhancer_t.onnx")(x)
    s = slice(512, -512)
    snr = 10 * np.log10(np.sum(a[s] ** 2) / np.sum((a[s] - b[s]) ** 2))
    assert snr > 50, snr


@pytest.mark.parametrize("file", ["fastenhancer_s.spec.onnx", "gtcrn_vb_stream.onnx"])
def test_peer_enhances_vb_file(peers_dir, vb_pair, file):
    from imse_keras.metrics import score_pair

    clean, noisy = vb_pair
    y = onnx_peer(peers_dir / file)(noisy)
    assert score_pair(clean, y)["pesq"] > score_pair(clean, noisy)["pesq"] + 0.3


def test_cost_of_shipped_graphs(peers_dir):
    """GMAC per second of audio as listed in ../shared/peers/README.md (FastEnhancer);
    parameters = weights stored in the graph."""
    expected = {"fastenhancer_t.spec.onnx": 0.06, "fastenhancer_s.spec.onnx": 0.66,
                "fastenhancer_m.spec.onnx": 2.9}
    for file, gmacs in expected.items():
        peer = onnx_peer(peers_dir / file)
        assert peer.macs_per_second / 1e9 == pytest.approx(gmacs, rel=0.05), file
        assert peer.latency_ms == pytest.approx(32.0)
    assert onnx_peer(peers_dir / "fastenhancer_s.spec.onnx").params == pytest.approx(194e3,
                                                                                     rel=0.05)


def test_count_macs_of_a_matmul(tmp_path):
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((8, 5), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 5])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "m.onnx"))
    assert count_onnx_macs(tmp_path / "m.onnx") == 3 * 5 * 8


@pytest.mark.parametrize("window", ["hann", "sqrt_hann"])
def test_identity_graph_reconstructs_input(tmp_path, window):
    """Frame in, same frame out: the STFT and its inverse around the graph are exact."""
    path = _graph(tmp_path, delay=False)
    x = np.random.default_rng(1).standard_normal(8000 + 11).astype(np.float32)
    with pytest.raises(PeerUnavailable, match="--peer-stft"):
        onnx_peer(path)
    y = onnx_peer(path, stft=StftSettings(512, 128, window))(x)
    np.testing.assert_allclose(y, x, atol=1e-5)


def test_caches_are_fed_back(tmp_path):
    """A graph that outputs its cache and caches its frame delays by one hop,
    which only happens if each cache output is fed to the next call."""
    path = _graph(tmp_path, delay=True)
    x = np.random.default_rng(2).standard_normal(8000).astype(np.float32)
    y = onnx_peer(path, stft=StftSettings(512, 256))(x)
    np.testing.assert_allclose(y[1024:], x[1024 - 256 : -256], atol=1e-5)


def test_wave_layout_removes_the_delay(tmp_path):
    """A [1, hop] pass-through graph given n_fft 512: the n_fft - hop samples a
    wav2wav graph delays by are cut from the start (a pass-through has no
    delay, so its output comes out that much early) and the length is kept."""
    path = _graph(tmp_path, cache_shape=(1, 4), frame_shape=(1, 256), delay=False, name="w")
    x = np.random.default_rng(3).standard_normal(3000).astype(np.float32)
    y = onnx_peer(path, stft=StftSettings(512, 256))(x)
    assert y.shape == x.shape
    np.testing.assert_array_equal(y[:-256], x[256:])


def test_bad_graphs_and_files(tmp_path):
    with pytest.raises(PeerUnavailable, match="not found"):
        onnx_peer(tmp_path / "absent.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a graph")
    with pytest.raises(PeerUnavailable, match="cannot load ONNX graph") as err:
        onnx_peer(junk)
    assert "\n" not in str(err.value)
    path = _graph(tmp_path, delay=False)
    with pytest.raises(PeerUnavailable, match="257 bins"):
        onnx_peer(path, stft=StftSettings(256, 128))


def test_parse_stft():
    assert parse_stft("512,160") == StftSettings(512, 160, "hann")
    assert parse_stft(" 512, 256, sqrt_hann") == StftSettings(512, 256, "sqrt_hann")
    for bad in ("512", "512,x", "512,256,hamming", "256,512"):
        with pytest.raises(ValueError, match="N_FFT,HOP"):
            parse_stft(bad)


def test_missing_onnxruntime_is_unavailable(peers_dir, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(PeerUnavailable, match=r"imse-keras\[peers\]"):
        onnx_peer(peers_dir / "fastenhancer_t.spec.onnx")


@pytest.mark.slow
def test_scores_of_peers_readme_on_vb_dev(shared_dir, peers_dir):
    """All 25 vb_dev files: PESQ-WB within 0.01 of ../shared/peers/README.md."""
    from imse_keras.compare import compare_pairs
    from imse_keras.metrics.evaluate import pair_files

    vb = shared_dir / "audio" / "vb_dev"
    expected = {"fastenhancer_t.spec.onnx": (3.017, 0.944), "fastenhancer_s.spec.onnx":
                (3.275, 0.955), "fastenhancer_m.spec.onnx": (3.263, 0.956),
                "gtcrn_vb_stream.onnx": (2.967, 0.950)}
    peers = [onnx_peer(peers_dir / f, name=f) for f in expected]
    results = compare_pairs(pair_files(vb / "clean", vb / "noisy"), peers, dnsmos=False)
    for r in results:
        pesq, stoi = expected[r.name]
        assert r.mean["n"] == 25
        assert r.mean["pesq"] == pytest.approx(pesq, abs=0.01), r.name
        assert r.mean["stoi"] == pytest.approx(stoi, abs=0.005), r.name
