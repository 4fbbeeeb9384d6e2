"""Peak memory (RSS) of ``imse enhance`` on one long 48 kHz file, per backend.

Writes a synthetic noisy recording (a harmonic tone with a syllable rhythm
plus noise, ``--minutes`` long, 48 kHz mono PCM_16) to a temp folder, then runs
``imse enhance FILE -o OUT -q`` once per backend as a child process and reads
the child's peak resident set size from ``os.wait4`` (Linux ``ru_maxrss``, in
KiB). Also records whether TensorFlow was imported (``--backend tflite`` must
not import it) and the child's CPU seconds::

    .venv/bin/python bench/rss.py --model tflite/imse_float32.tflite --out bench/results/rss

Needs the official weights (``IMSE_WEIGHTS`` or the cache) for the Keras run
and an exported ``.tflite`` (``imse export``) for the LiteRT run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent

# Runs the CLI in the child and leaves a marker saying whether TF was imported.
_CHILD = (
    "import sys, atexit\n"
    "marker = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(marker, 'w').write(str('tensorflow' in sys.modules)))\n"
    "from imse_keras.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def write_long_file(path: Path, minutes: float, rate: int = 48000, seed: int = 0) -> int:
    """A noisy harmonic signal, written block by block (bounded memory); returns frames."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * rate)
    block = rate * 10
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as f:
        for start in range(0, n, block):
            t = (np.arange(start, min(n, start + block)) / rate)
            voiced = 0.5 * (1 + np.sin(2 * np.pi * 4 * t))
            x = sum(0.1 / k * np.sin(2 * np.pi * 150 * k * t) for k in range(1, 6)) * voiced
            f.write((x + 0.03 * rng.standard_normal(len(t))).astype(np.float32))
    return n


def run_backend(args: list[str], src: Path, out: Path, threads: int) -> dict:
    marker = out.with_suffix(".tf")
    cmd = [sys.executable, "-c", _CHILD, str(marker), "enhance", str(src), "-o", str(out), "-q",
           "--threads", str(threads), *args]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", IMSE_THREADS=str(threads))
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return {
        "args": args,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": wall,
        "tensorflow_imported": marker.read_text() == "True",
        "output_frames": sf.info(out).frames,
    }


def render(result: dict) -> str:
    lines = [
        f"Peak RSS of `imse enhance` on a {result['minutes']:g}-minute {result['rate'] // 1000} kHz "
        f"mono file ({result['frames']:,} frames), one run each, {result['machine']}, "
        f"{result['date']}.",
        "",
        "| backend | peak RSS | TensorFlow imported | CPU s per audio s | output frames |",
        "|---|---:|---|---:|---:|",
    ]
    audio_s = result["frames"] / result["rate"]
    for name, r in result["backends"].items():
        lines.append(
            f"| {name} | {r['peak_rss_mb']:.0f} MB | {'yes' if r['tensorflow_imported'] else 'no'}"
            f" | {r['cpu_s'] / audio_s:.2f} | {r['output_frames']:,} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=48000)
    parser.add_argument("--model", default="tflite/imse_float32.tflite",
                        help="the .tflite for the LiteRT run")
    parser.add_argument("--weights", default=None, help="--weights for the Keras run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backends", default="tflite,keras")
    parser.add_argument("--out", default=None, help="write OUT.json and OUT.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="imse_rss_") as tmp:
        src = Path(tmp) / "long.wav"
        frames = write_long_file(src, args.minutes, args.rate)
        result = {"minutes": args.minutes, "rate": args.rate, "frames": frames,
                  "machine": f"{platform.machine()} {os.cpu_count()} cores, "
                             f"{args.threads} threads",
                  "date": date.today().isoformat(), "backends": {}}
        for backend in args.backends.split(","):
            if backend == "tflite":
                extra = ["--backend", "tflite", "--model", args.model]
                name = f"`--backend tflite` ({Path(args.model).name})"
            else:
                extra = ["--backend", "keras"] + (["--weights", args.weights] if args.weights else [])
                name = "`--backend keras` (float32)"
            r = run_backend(extra, src, Path(tmp) / f"out_{backend}.wav", args.threads)
            if r["output_frames"] != frames:
                raise SystemExit(f"{backend}: {r['output_frames']} frames out, {frames} in")
            result["backends"][name] = r
            print(f"{name}: peak RSS {r['peak_rss_mb']:.0f} MB, TF imported "
                  f"{r['tensorflow_imported']}, CPU {r['cpu_s']:.0f} s", flush=True)
    text = render(result)
    print(text)
    if args.out:
        from imse_keras.atomic import write_text_atomic

        write_text_atomic(f"{args.out}.json", json.dumps(result, indent=2) + "\n")
        write_text_atomic(f"{args.out}.md", text)


if __name__ == "__main__":
    main()
