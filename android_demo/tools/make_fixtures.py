"""Write the golden and record/replay fixtures of the Android demo's Java core.

Run from the repository root with the project's environment::

    .venv/bin/python android_demo/tools/make_fixtures.py

It replaces ``android_demo/core/src/test/resources/fixtures/`` (only once everything
was written) with:

``golden/``  (the library's own front end, ``imse_keras.dsp``)
    * ``wave_a.f32`` (3001 samples: ``(n - 1) % hop == 0``, so the last frame is
      centred on a reflection point and forced real) and ``wave_b.f32`` (2950);
    * ``*_mag_c.f32``, ``*_pha.f32``: :func:`mag_pha_stft`, frames-first ``[T, F]``;
    * ``*_istft.f32``: :func:`mag_pha_istft` of that STFT (the round trip);
    * ``rand_mag_c.f32``, ``rand_pha.f32``, ``rand_istft.f32``: an iSTFT of a
      random spectrum with a ``length`` longer than the frames cover (zero tail);
    * ``wave_a_norm.f32``: :func:`rms_normalize` of ``wave_a``;
    * ``merge_outputs.f32`` / ``merge_official.f32`` / ``merge_crossfade.f32``:
      :func:`merge_segments` of random segment outputs (segment size 50, 137 samples);
    * ``manifest.json``: shapes, the norm, segmentation plans for several lengths,
      int8 quantize/dequantize cases (ties included).

``replay/``  (a real int8 ``.tflite`` under ``ai_edge_litert``)
    * ``input.wav``: 2.5 s of synthetic noisy "speech", PCM16 mono 16 kHz;
    * ``contract.json``: the exported model's I/O contract;
    * ``seg<i>_<tensor>.i8``: per segment, the int8 input tensors the interpreter
      received (``mag_c``, ``pha``) and the raw int8 outputs it returned
      (``mask``, ``phase_r``, ``phase_i``), each ``[1, 308, 256]``;
    * ``enhanced.f32``: ``Enhancer(..., overlap="crossfade").enhance_waveform`` of
      the WAV decoded as ``int16 / 32768``;
    * ``manifest.json``.

``inputs.json``
    the SHA-256 of this script and of every ``imse_keras`` module loaded while it ran, and
    the library versions; ``fixture_inputs.py --check`` (run by ``make test``) fails when one
    of those files changed since, naming this command.

The model is the ``tiny`` preset with seeded random weights, calibrated on
synthetic waveforms and exported with int8 activations *and* int8 I/O (so each
recorded tensor is one byte per value). The ``.tflite`` itself is written to a
temporary folder and not kept. All binary files are little-endian, no header.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import wave
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from imse_keras.runtime import configure_tensorflow  # noqa: E402

configure_tensorflow(1)  # before anything imports TensorFlow

from imse_keras.dsp.normalize import rms_normalize  # noqa: E402
from imse_keras.dsp.segment import merge_segments, plan_segments, split_segments  # noqa: E402
from imse_keras.dsp.stft import mag_pha_istft, mag_pha_stft  # noqa: E402
from imse_keras.synth.harmonic import harmonic_pair  # noqa: E402

OUT = ROOT / "android_demo" / "core" / "src" / "test" / "resources" / "fixtures"
SR = 16000
N_FFT, HOP, CF = 510, 100, 0.3


def _speechy(n: int, seed: int, snr_db: float) -> np.ndarray:
    """Harmonic 'voice' with syllable-rate AM plus white noise (float32)."""
    return harmonic_pair(n, seed=seed, snr_db=snr_db, sample_rate=SR)[1]


def _f32(path: Path, x) -> None:
    np.ascontiguousarray(x, dtype="<f4").tofile(path)


def _i8(path: Path, x) -> None:
    x = np.asarray(x)
    assert x.dtype == np.int8, x.dtype
    np.ascontiguousarray(x).tofile(path)


def golden(out: Path) -> None:
    out.mkdir(parents=True)
    manifest: dict = {"n_fft": N_FFT, "hop_length": HOP, "compress_factor": CF, "num_freqs": 256}
    for name, n, seed in (("wave_a", 3001, 5), ("wave_b", 2950, 6)):
        x = _speechy(n, seed, 10.0)
        mag_c, pha = (np.ascontiguousarray(a.T) for a in mag_pha_stft(x, N_FFT, HOP, CF))  # [T, F]
        y = mag_pha_istft(mag_c.T, pha.T, N_FFT, HOP, CF, length=n)  # dsp.stft: torch's [F, T]
        _f32(out / f"{name}.f32", x)
        _f32(out / f"{name}_mag_c.f32", mag_c)
        _f32(out / f"{name}_pha.f32", pha)
        _f32(out / f"{name}_istft.f32", y)
        manifest[name] = {"samples": n, "frames": int(mag_c.shape[0])}

    # An iSTFT of an arbitrary spectrum, longer than its frames cover.
    rng = np.random.default_rng(7)
    t = 31
    # Drawn [F, T] and transposed to [T, F]: the same values as before the layout change.
    mag_c = rng.uniform(0.0, 2.0, (256, t)).astype(np.float32).T
    pha = rng.uniform(-np.pi, np.pi, (256, t)).astype(np.float32).T
    length = HOP * (t - 1) + N_FFT // 2 + 45  # 45 samples past the last frame: zeros
    y = mag_pha_istft(mag_c.T, pha.T, N_FFT, HOP, CF, length=length)
    _f32(out / "rand_mag_c.f32", mag_c)
    _f32(out / "rand_pha.f32", pha)
    _f32(out / "rand_istft.f32", y)
    manifest["rand"] = {"frames": t, "length": length}

    x = np.fromfile(out / "wave_a.f32", "<f4")
    x_norm, norm = rms_normalize(x)
    _f32(out / "wave_a_norm.f32", x_norm)
    manifest["wave_a"]["norm"] = norm

    manifest["plans"] = [
        {"n": n, "segment_size": s, "plan": [list(p) for p in plan_segments(n, s)]}
        for n, s in ((1, 30700), (29999, 30700), (30700, 30700), (30701, 30700),
                     (61400, 30700), (100000, 30700), (137, 50), (7, 3))
    ]

    n, s = 137, 50
    plan = plan_segments(n, s)
    outputs = rng.standard_normal((len(plan), s)).astype(np.float32)
    _f32(out / "merge_outputs.f32", outputs)
    _f32(out / "merge_official.f32", merge_segments(outputs, plan, n, mode="official"))
    _f32(out / "merge_crossfade.f32", merge_segments(outputs, plan, n, mode="crossfade"))
    # A short file: one zero-padded segment.
    short = rng.standard_normal(30).astype(np.float32)
    seg = split_segments(short, plan_segments(30, s), s)
    manifest["merge"] = {"n": n, "segment_size": s, "segments": len(plan),
                         "short_split_tail_zero": bool(np.all(seg[0, 30:] == 0))}

    from imse_keras.export.runner import dequantize, quantize

    scale, zp = 0.05, -3
    xs = np.array([0.0, 0.025, -0.025, 0.075, -0.075, 0.1249, 1.0, -1.0, 6.5, -6.5, 100.0,
                   -100.0, 0.0250001, 3.14159], dtype=np.float32)
    q = quantize(xs, scale, zp)
    manifest["quant"] = {
        "scale": scale, "zero_point": zp,
        "x": [float(v) for v in xs],
        "q": [int(v) for v in q],
        "dq": [float(v) for v in dequantize(q, scale, zp)],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def _export_int8_io(tmp: Path) -> Path:
    import keras

    from imse_keras.export.calibration import calibration_from_waveforms
    from imse_keras.export.pipeline import export_tflite
    from imse_keras.export.policy import get_policy
    from imse_keras.model import build_model

    keras.utils.set_random_seed(0)
    model = build_model("tiny")
    rng = np.random.default_rng(0)
    for v in model.weights:
        v.assign(v.numpy() + rng.normal(0, 0.05, v.shape).astype("float32"))
    waves = [_speechy(40000, seed=s, snr_db=snr) for s, snr in ((1, 5.0), (2, 15.0))]
    cal = calibration_from_waveforms(waves, "tiny", count=3, seed=0,
                                     info={"source": "synthetic (android_demo fixtures)"})
    policy = get_policy("int8").replace(name="int8io", io="int8")
    export_tflite(model, policy, tmp, config="tiny", name="tiny_int8io", calibration=cal)
    return tmp / "tiny_int8io.tflite"


def replay(out: Path) -> None:
    from imse_keras.enhance import Enhancer
    from imse_keras.export.runner import LiteRTModel, tflite_backend

    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        model_path = _export_int8_io(Path(tmp))
        shutil.copy(model_path.with_suffix(".json"), out / "contract.json")
        model = LiteRTModel(model_path, num_threads=1)
        assert model.io_dtype == np.int8, model.io_dtype

        calls: list[tuple[dict, dict]] = []
        # The signature runner LiteRTModel feeds with quantized inputs; wrapping it records the
        # exact int8 tensors the interpreter sees and returns.
        inner = getattr(model, "_runner", None)
        if not callable(inner):
            raise SystemExit("LiteRTModel has no callable _runner any more: update the recorder")

        def recording(**feed):
            result = inner(**feed)
            calls.append(({k: np.array(v) for k, v in feed.items()},
                          {k: np.array(v) for k, v in result.items()}))
            return result

        model._runner = recording

        n = 40000  # 2.5 s: segments [0, 30700) and the overlapping tail [9300, 40000)
        x = _speechy(n, seed=21, snr_db=5.0)
        pcm = np.clip(np.round(x / np.max(np.abs(x)) * 0.5 * 32767), -32768, 32767).astype("<i2")
        with wave.open(str(out / "input.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes(pcm.tobytes())
        x = pcm.astype(np.float32) / 32768.0

        enhancer = Enhancer(tflite_backend(model), "tiny", overlap="crossfade")
        y = enhancer.enhance_waveform(x)
        _f32(out / "enhanced.f32", y)

        names = {"inputs": ["mag_c", "pha"], "outputs": ["mask", "phase_r", "phase_i"]}
        for i, (feed, result) in enumerate(calls):
            for name in names["inputs"]:
                _i8(out / f"seg{i}_{name}.i8", feed[name])
            for name in names["outputs"]:
                _i8(out / f"seg{i}_{name}.i8", result[name])
        manifest = {
            "wav": "input.wav", "samples": n, "sample_rate": SR, "overlap": "crossfade",
            "segments": len(calls),
            "plan": [list(p) for p in plan_segments(n, 30700)],
            "shape": list(calls[0][0]["mag_c"].shape), **names,
            "enhanced": "enhanced.f32",
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist in ("numpy", "tensorflow", "tensorflow-cpu", "keras", "ai-edge-litert"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return found


def main() -> None:
    """Writes the fixtures into a new folder and swaps it in only when all of it succeeded."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fixture_inputs import loaded_inputs, write_record

    new, old = OUT.with_name(".fixtures.new"), OUT.with_name(".fixtures.old")
    for d in (new, old):
        if d.exists():
            shutil.rmtree(d)
    try:
        golden(new / "golden")
        replay(new / "replay")
        write_record(loaded_inputs(), _versions(), new / "inputs.json")
        total = sum(p.stat().st_size for p in new.rglob("*") if p.is_file())
        if total >= 2_000_000:
            raise SystemExit(f"fixtures too large: {total} bytes (keep them under 2 MB)")
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        print(f"{OUT.relative_to(ROOT)} left unchanged", file=sys.stderr)
        raise
    if OUT.exists():
        OUT.rename(old)
    new.rename(OUT)
    shutil.rmtree(old, ignore_errors=True)
    print(f"wrote {OUT.relative_to(ROOT)}: {total} bytes in "
          f"{sum(1 for p in OUT.rglob('*') if p.is_file())} files")


if __name__ == "__main__":
    main()
