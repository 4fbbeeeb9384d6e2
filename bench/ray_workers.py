"""Throughput of ``imse enhance --ray local`` with 1 and 2 Ray workers, in one run.

Each run starts a private local Ray instance, maps the same files with
``--ray-workers`` actors (Keras backend, official weights, 1 TensorFlow thread
per actor) and stops Ray. Reported per run: wall seconds from the dataset's
start (includes each actor's TensorFlow import and model load), files and
audio seconds per wall second, and the actors' CPU seconds on the files
(``time.process_time`` inside each actor, summed): CPU time is what a busy,
shared machine does not distort. Writes ``<out>`` (JSON) and ``<out>.md`` (the
README table, rendered by ``bench/update_readme.py``).

    .venv/bin/python bench/ray_workers.py --files 12 --out bench/results/ray_workers.json

Input: the first ``--files`` files of ``../shared/audio/vb_dev/noisy`` (read in
place); outputs go to a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]


def markdown(payload: dict) -> str:
    """The README table of one run (``bench/results/ray_workers.md``)."""
    runs = payload["runs"]
    lines = [
        f"{runs[0]['files']} vb_dev files ({runs[0]['audio_s']} s of audio), one run of "
        f"`.venv/bin/python {payload['command']}`, {payload['machine']} {payload['cpu_count']} cores, "
        f"load average {payload['load_avg_at_end'][1]:.1f} (other jobs running).",
        "",
        "| Ray workers | wall s (incl. actor start-up) | files / wall s | speed-up (wall) "
        "| actors' CPU s | audio s per CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(f"| {r['workers']} | {r['wall_s']:.1f} | {r['files_per_wall_s']:.3f} | "
                     f"{r['speedup_wall']:.2f} | {r['cpu_s']:.1f} | {r['audio_s_per_cpu_s']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=12)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ray_workers.json")
    args = ap.parse_args()

    from imse_keras.ray_enhance import EnhancerSpec, enhance_on_ray, plan_bulk

    noisy = sorted((args.shared / "audio" / "vb_dev" / "noisy").glob("*.wav"))[: args.files]
    weights = args.shared / "official" / "g_best_pesq_3.399"
    if not noisy or not weights.is_file():
        raise SystemExit(f"needs {args.shared}/audio/vb_dev/noisy and {weights}")
    spec = EnhancerSpec(backend="keras", weights=str(weights), preset="imse", threads=1, download=False)
    runs = []
    for n in args.workers:
        with tempfile.TemporaryDirectory() as out:
            pairs = plan_bulk([str(p) for p in noisy], out)
            res = enhance_on_ray(pairs, spec, "local", n)
        assert res.written == len(noisy) and not res.failed, res
        runs.append({"workers": n, "files": res.written, "audio_s": round(res.audio_seconds, 2),
                     "wall_s": round(res.wall_s, 2), "cpu_s": round(res.cpu_s, 2),
                     "files_per_wall_s": round(res.written / res.wall_s, 3),
                     "audio_s_per_cpu_s": round(res.audio_seconds / res.cpu_s, 2)})
        print(json.dumps(runs[-1]), flush=True)
    base = runs[0]["wall_s"]
    for r in runs:
        r["speedup_wall"] = round(base / r["wall_s"], 2)
    payload = {"command": "bench/ray_workers.py --files %d" % args.files, "cpu_count": os.cpu_count(),
               "machine": platform.machine(), "load_avg_at_end": os.getloadavg(), "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(payload))
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
