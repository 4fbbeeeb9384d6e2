"""Milliseconds per 1.92 s segment for .tflite files, 1 and 2 LiteRT threads.

A narrower timing than ``bench_backends.py`` (network only: no STFT, no
segmentation, one real segment of synthetic noisy speech), for comparing two
exports of the same model, e.g. the int8 mode's two storages of float-op
weights (``bench/speed.py`` times every backend side by side)::

    imse export --mode int8 --calib DIR                                   # float16-stored
    imse export --mode int8 --calib DIR --float-weights int8 -o tflite/imse_int8_i8w.tflite
    .venv/bin/python bench/segment_speed.py tflite/imse_int8.tflite tflite/imse_int8_i8w.tflite

Median of ``--runs`` calls after one warm-up call. Needs an idle machine.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=str, default=None, help="also write the table here")
    args = parser.parse_args()

    from imse_keras.export.calibration import segment_features
    from imse_keras.export.runner import LiteRTModel
    from imse_keras.synth import make_pair

    _, noisy = make_pair(seed=5, snr_db=5.0, noise="pink")
    mag, pha = segment_features(noisy, "imse")
    mag, pha = mag[:1], pha[:1]
    lines = ["| model | file size | threads | ms per 1.92 s segment (median) |", "|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for path in args.models:
        for threads in (1, 2):
            model = LiteRTModel(path, threads)
            model.run_frames_first(mag, pha)
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                model.run_frames_first(mag, pha)
                times.append(time.perf_counter() - t0)
            lines.append(f"| {os.path.basename(path)} | {os.path.getsize(path):,} B | {threads} | "
                         f"{1000 * float(np.median(times)):.0f} |")
            print(lines[-1], flush=True)
    if args.out:
        from imse_keras.atomic import write_text_atomic

        write_text_atomic(args.out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
