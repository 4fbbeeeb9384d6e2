"""CPU cost per 1.92 s segment of every backend, side by side in one run.

Rows (taking turns, so a busy machine slows them alike):

* ``Keras float32``: the IMSE Keras model on one segment (TensorFlow, 1 intra-op
  thread, traced once);
* every ``tflite/imse_*.tflite`` export (LiteRT with XNNPACK, ``--threads``
  threads; network only: the host STFT is the same for every mode);
* ``FastEnhancer-M`` (``../shared/peers``, onnxruntime, 1 thread), frame by
  frame over the same 1.92 s of audio, its STFT and inverse included;
* the official PyTorch model is not run here (torch is not a dependency); its
  measured cost is quoted in ``../shared/README.md``.

For each row: CPU ms per segment (``time.process_time``, median of ``--runs``
calls after one warm-up call; CPU time, not wall time, because the machine is
shared), RTF (CPU seconds per second of audio), GMAC/s (the model's multiply-
accumulates per segment, :func:`imse_keras.macs.count_macs` for IMSE,
:func:`imse_keras.peers.onnx_stream.count_onnx_macs` for the peer, divided by the
CPU time), and, with ``--arm-dir``, the emulated Cortex-A76 instruction count of
one warm invoke read from the arm-emu kit's output folder::

    bash ../shared/tools/arm-emu/check.sh -o /tmp/arm tflite/imse_float32.tflite tflite/imse_int8.tflite
    .venv/bin/python bench/speed.py --arm-dir /tmp/arm --out bench/results/speed

Input: the first 1.92 s of ``../shared/audio/vb_dev/noisy/p232_003.wav`` (synthetic
noisy speech when ../shared is absent). Writes ``<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WAV = ROOT.parent / "shared" / "audio" / "vb_dev" / "noisy" / "p232_003.wav"
PEER = ("FastEnhancer-M", ROOT.parent / "shared" / "peers" / "fastenhancer_m.spec.onnx")
MODES = ("float32", "float16", "dynamic", "int8")


def _segment(cfg):
    """The first segment of the input file (zero-padded), and where it came from."""
    from imse_keras.audio_io import read_audio, resample
    from imse_keras.dsp.normalize import rms_normalize

    if WAV.is_file():
        audio = read_audio(WAV)
        x = resample(audio.samples.mean(axis=1), audio.sample_rate, cfg.sampling_rate)
        source = f"first 1.92 s of {WAV.relative_to(ROOT.parent)}"
    else:
        from imse_keras.synth import make_pair

        x = make_pair(seed=5, snr_db=5.0, noise="pink")[1]
        source = "synthetic noisy speech (seed 5, 5 dB)"
    x = np.asarray(x, np.float32)[: cfg.segment_size]
    x = np.pad(x, (0, cfg.segment_size - len(x)))
    return rms_normalize(x)[0], source


def _arm_counts(arm_dir: Path | None) -> dict[str, float]:
    """``{model stem: warm-invoke ARM instructions}`` from arm-emu ``marks_*`` files."""
    counts = {}
    if arm_dir is None:
        return counts
    for path in sorted(arm_dir.glob("marks_*_cortex-a76.txt")):
        marks = {}
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "MARK":
                marks[int(parts[1])] = int(parts[2])
        if 1 in marks and 2 in marks:
            counts[path.name[len("marks_"):-len("_cortex-a76.txt")]] = marks[2] - marks[1]
    return counts


def _backends(args, cfg, x):
    """(label, threads, size, macs, callable) per row; the callable runs one segment."""
    import tensorflow as tf

    from imse_keras.export.calibration import segment_features
    from imse_keras.export.runner import LiteRTModel
    from imse_keras.macs import count_macs
    from imse_keras.weights.load import load_pretrained

    mag, pha = segment_features(x, cfg)  # [1, T, F]
    model = load_pretrained(args.weights, progress=False)
    macs = count_macs(model, cfg.segment_frames)
    mag_t, pha_t = tf.constant(mag), tf.constant(pha)
    forward = tf.function(lambda a, b: model([a, b], training=False))
    rows = [("Keras float32", 1, 4 * model.count_params(), macs,
             lambda: forward(mag_t, pha_t)[0].numpy())]
    tflite_dir = Path(args.tflite_dir)
    paths = [tflite_dir / f"imse_{m}.tflite" for m in MODES]
    paths += [Path(p) for p in args.tflite]
    for path in paths:
        if not path.is_file():
            print(f"skipping {path}: not exported (imse export --mode all ...)")
            continue
        for threads in args.threads:
            runner = LiteRTModel(path, num_threads=threads)
            rows.append((f"TFLite {path.stem}", threads, path.stat().st_size, macs,
                         lambda r=runner: r.run_frames_first(mag, pha)))
    name, onnx_path = PEER
    if onnx_path.is_file() and not args.no_peer:
        from imse_keras.peers.onnx_stream import OnnxStream, count_onnx_macs

        stream = OnnxStream(onnx_path, num_threads=1)
        per_call = count_onnx_macs(onnx_path)
        hops = len(x) // stream.stft.hop + 1  # frames of a centred STFT
        peer_macs = None if per_call is None else per_call * hops
        rows.append((f"{name} (ONNX, streaming)", 1, onnx_path.stat().st_size, peer_macs,
                     lambda: stream.enhance(x)))
    return rows


def measure(args) -> dict:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from imse_keras.config import get_config

    cfg = get_config("imse")
    x, source = _segment(cfg)
    seconds = cfg.segment_size / cfg.sampling_rate
    rows = _backends(args, cfg, x)
    for row in rows:  # warm-up (tracing, XNNPACK weight packing)
        row[4]()
    times = [[] for _ in rows]
    for _ in range(args.runs):
        for k, row in enumerate(rows):
            c0 = time.process_time()
            row[4]()
            times[k].append(time.process_time() - c0)
    arm = _arm_counts(Path(args.arm_dir) if args.arm_dir else None)
    out = []
    for (label, threads, size, macs, _), t in zip(rows, times):
        cpu = float(np.median(t))
        stem = label.split(" ", 1)[1] if label.startswith("TFLite ") else None
        out.append({
            "backend": label, "threads": threads, "size_bytes": int(size),
            "cpu_ms": 1000 * cpu, "cpu_ms_all": [1000 * v for v in t], "rtf": cpu / seconds,
            "gmac_per_s": None if macs is None else macs / cpu / 1e9,
            "macs_per_segment": macs,
            "arm_a76_warm_instructions": arm.get(stem) if threads == 1 else None,
        })
    return {"source": source, "segment_seconds": seconds, "runs": args.runs,
            "machine": f"{platform.machine()} {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d"), "rows": out}


def to_markdown(result: dict) -> str:
    lines = [
        f"CPU time per {result['segment_seconds']:.2f} s segment, median of {result['runs']} "
        f"calls taking turns in one run ({result['machine']}, {result['date']}; input: "
        f"{result['source']}). RTF = CPU seconds per second of audio. ARM: emulated "
        "Cortex-A76 instructions per warm invoke (arm-emu kit, 1 thread).",
        "",
        "| backend | threads | file size | CPU ms / segment | RTF | GMAC/s | ARM A76 instructions |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        gmac = "–" if r["gmac_per_s"] is None else f"{r['gmac_per_s']:.1f}"
        arm = r["arm_a76_warm_instructions"]
        arm = "–" if arm is None else f"{arm / 1e9:.2f} G"
        lines.append(f"| {r['backend']} | {r['threads']} | {r['size_bytes'] / 1024:,.0f} KiB | "
                     f"{r['cpu_ms']:.0f} | {r['rtf']:.3f} | {gmac} | {arm} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tflite-dir", default=str(ROOT / "tflite"))
    parser.add_argument("--tflite", nargs="*", default=[], help="further .tflite files")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--arm-dir", default=None, help="arm-emu check.sh -o folder")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--out", default=None, help="write <out>.json and <out>.md")
    args = parser.parse_args()
    result = measure(args)
    md = to_markdown(result)
    print(md)
    if args.out:
        from imse_keras.atomic import write_text_atomic

        write_text_atomic(f"{args.out}.json", json.dumps(result, indent=1) + "\n")
        write_text_atomic(f"{args.out}.md", md)


if __name__ == "__main__":
    main()
