"""Which ops an int8 export computes in int8, float or hybrid: candidates side by side.

One calibration of the official model's export graph, then one quantization per
candidate policy (:func:`imse_keras.export.convert.calibrate` once,
:func:`~imse_keras.export.convert.convert_model` with ``calibrated=``). Each file
is compared with the float32 export on the first segment of three vb_dev noisy
files (mask SNR; phase: RMS of the wrapped angle error of atan2(phase_i,
phase_r)) and timed on x86 taking turns with the float32 file (CPU time of one
invoke, 1 thread, median of ``--runs``). The ``tflite/README.md`` tables of the
int8 policy come from this script's output::

    .venv/bin/imse make-demo-data -o /tmp/imse_calib --train-files 40 --test-files 0 \\
        --noise-dir ../shared/audio/noise --snr-min 0 --snr-max 20 --seed 7
    .venv/bin/python bench/int8_islands.py --calib /tmp/imse_calib/noisy_trainset_28spk_wav \\
        --out bench/results/int8_islands

Needs ``../shared`` (official weights and vb_dev). About 6 minutes on 2 cores.
Writes ``<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VB_NOISY = ROOT.parent / "shared" / "audio" / "vb_dev" / "noisy"
FILES = ("p232_003.wav", "p232_005.wav", "p257_023.wav")


def candidates():
    """(label, policy) pairs: the previous preset, each change alone, the preset."""
    from imse_keras.export.policy import INT8_FLOAT_OPS, INT8_HYBRID_SCOPES, get_policy

    preset = get_policy("int8")
    previous = preset.replace(float_ops=INT8_FLOAT_OPS, hybrid_scopes=())
    all_dense = tuple(p.replace("conv[0-2]", r"conv\d") for p in INT8_HYBRID_SCOPES)
    return [
        ("int8 islands only (the previous preset)", previous),
        ("+ GELU computed in float", previous.replace(float_ops=preset.float_ops)),
        ("+ hybrid convs (decoders' dense convs 0-2, heads' output convs, encoder's strided conv)",
         previous.replace(hybrid_scopes=INT8_HYBRID_SCOPES)),
        ("**both (the preset)**", preset),
        ("both, and the decoders' last dense convs hybrid too", preset.replace(hybrid_scopes=all_dense)),
    ]


def _features(cfg):
    from imse_keras.audio_io import read_audio, resample
    from imse_keras.export.calibration import segment_features

    mags, phas = [], []
    for name in FILES:
        audio = read_audio(VB_NOISY / name)
        x = resample(audio.samples.mean(axis=1), audio.sample_rate, cfg.sampling_rate)
        mag, pha = segment_features(x[: cfg.segment_size], cfg)
        mags.append(mag)
        phas.append(pha)
    return np.concatenate(mags), np.concatenate(phas)


def _errors(ref: dict, out: dict) -> tuple[float, float]:
    """Mean over segments of the mask SNR (dB) and the phase RMS error (rad)."""
    from imse_keras.export.validate import snr_db

    snrs, rms = [], []
    for k in range(ref["mask"].shape[0]):
        snrs.append(snr_db(ref["mask"][k].ravel(), out["mask"][k].ravel()))
        d = (np.arctan2(out["phase_i"][k], out["phase_r"][k])
             - np.arctan2(ref["phase_i"][k], ref["phase_r"][k]))
        rms.append(float(np.sqrt(np.mean(np.angle(np.exp(1j * d)) ** 2))))
    return float(np.mean(snrs)), float(np.mean(rms))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calib", required=True, help="calibration audio folder (imse export --calib)")
    parser.add_argument("--calib-count", type=int, default=32)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--out", default="bench/results/int8_islands")
    args = parser.parse_args(argv)

    from imse_keras.runtime import configure_tensorflow

    configure_tensorflow(threads=2)
    from imse_keras.export.calibration import calibration_from_dir
    from imse_keras.export.convert import calibrate, convert_model, save_graph
    from imse_keras.export.runner import LiteRTModel
    from imse_keras.weights.load import load_pretrained

    model = load_pretrained(None, progress=False)
    cfg = model.imse_config
    mag, pha = _features(cfg)
    rows = []
    with tempfile.TemporaryDirectory(prefix="imse-islands-") as tmp:
        saved = save_graph(model.export_graph(), tmp)
        calibration = calibration_from_dir(args.calib, "imse", count=args.calib_count, seed=0)
        calibrated = calibrate(saved, calibration)
        files = {"float32 (reference)": convert_model(None, "float32", saved_model=saved).model}
        policies = {}
        for label, policy in candidates():
            files[label] = convert_model(None, policy, calibrated=calibrated, saved_model=saved).model
            policies[label] = policy
    runners = {label: LiteRTModel(data, num_threads=1) for label, data in files.items()}
    ref = runners["float32 (reference)"].run_frames_first(mag, pha)
    times = {label: [] for label in runners}
    one = (mag[:1], pha[:1])
    for runner in runners.values():
        runner.run_frames_first(*one)
    for _ in range(args.runs):
        for label, runner in runners.items():
            start = time.process_time()
            runner.run_frames_first(*one)
            times[label].append(time.process_time() - start)
    for label, runner in runners.items():
        row = {"candidate": label, "bytes": len(files[label]),
               "cpu_ms": 1000 * float(np.median(times[label]))}
        if label in policies:
            row["mask_snr_db"], row["phase_rms_rad"] = _errors(ref, runner.run_frames_first(mag, pha))
            row["policy"] = policies[label].to_dict()
        rows.append(row)
    report = {"machine": f"{platform.machine()} {os.cpu_count()} cores",
              "date": time.strftime("%Y-%m-%d"), "runs": args.runs,
              "segments": [f"first segment of vb_dev/noisy/{f}" for f in FILES],
              "calibration": calibration.info, "rows": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"x86 CPU ms per invoke (1 thread, median of {args.runs}, taking turns; "
        f"{report['machine']}, {report['date']}); errors against the float32 export on "
        f"the first segment of {', '.join(FILES)}.",
        "",
        "| candidate | x86 CPU ms | mask SNR | phase RMS |",
        "|---|---|---|---|",
    ]
    for row in rows:
        err = ("–", "–") if "mask_snr_db" not in row else (
            f"{row['mask_snr_db']:.1f} dB", f"{row['phase_rms_rad']:.3f} rad")
        lines.append(f"| {row['candidate']} | {row['cpu_ms']:.1f} | {err[0]} | {err[1]} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
