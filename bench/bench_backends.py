"""Speed, size and quality of every backend, in one run on one machine.

For each backend (Keras float32, then the TFLite exports float32, float16,
dynamic and int8, each with 1 and 2 LiteRT threads) this enhances the 25
``../shared/audio/vb_dev`` utterances through the same front end and
segmentation (``Enhancer``, cross-fade overlap) and reports:

* model file size (the Keras row: the float32 weights, 4 bytes a parameter);
* real-time factor: processing time / audio duration, summed over the 25
  files, the median of ``--runs`` passes after one warm-up file;
* mean PESQ-WB and STOI against the clean references (from the first pass;
  the outputs are deterministic).

The official PyTorch model's real-time factors on this machine come from
``../shared/README.md`` (1.37 with one thread, 1.08 with two; about 1.5 in the
first, shared-CPU measurement); they are quoted, not re-measured here.

Usage (export first; the .tflite files are build outputs)::

    .venv/bin/imse export --mode all --calib DIR -o tflite/
    .venv/bin/python bench/bench_backends.py --tflite-dir tflite --runs 3

Writes ``bench/backends.md``, ``bench/backends.json`` and (with matplotlib,
the ``report`` extra) ``bench/backends.png`` (quality vs real-time factor).
Needs an otherwise idle machine for meaningful timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODES = ("float32", "float16", "dynamic", "int8")
# ../shared/README.md, official PyTorch IMSE (float32, torch 2.13 CPU) on the same 25 files.
OFFICIAL_PYTORCH_RTF = {1: 1.37, 2: 1.08}


def _backends(args):
    """(label, kind, threads, size_bytes, factory) for every row to run."""
    from imse_keras.config import get_config
    from imse_keras.enhance import Enhancer
    from imse_keras.export.runner import LiteRTModel, tflite_backend

    rows = []

    def keras_factory():
        from imse_keras.weights.load import load_pretrained

        model = load_pretrained(args.weights)
        return Enhancer.from_model(model, "imse", batch_size=4, overlap="crossfade")

    params = 432_995
    rows.append(("Keras float32", "keras", args.keras_threads, 4 * params, keras_factory))
    cfg = get_config("imse")
    for mode in MODES:
        path = Path(args.tflite_dir) / f"imse_{mode}.tflite"
        if not path.is_file():
            raise SystemExit(
                f"{path} is missing; run `imse export --mode all --calib DIR "
                f"-o {args.tflite_dir}/` first"
            )
        for threads in args.threads:
            def factory(path=path, threads=threads):
                runner = LiteRTModel(path, num_threads=threads)
                return Enhancer(tflite_backend(runner), cfg, batch_size=1, overlap="crossfade")

            rows.append((f"TFLite {mode}", mode, threads, path.stat().st_size, factory))
    return rows


def _time_pass(enhancer, noisy):
    """Seconds spent enhancing each waveform (file reading excluded)."""
    outs, seconds = [], 0.0
    for x in noisy:
        t0 = time.perf_counter()
        outs.append(enhancer.enhance_waveform(x))
        seconds += time.perf_counter() - t0
    return seconds, outs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None,
                        help="checkpoint (name or path); default: the official one, found as "
                        "`imse enhance` finds it ($IMSE_WEIGHTS, cache, download)")
    parser.add_argument("--vb-dev", type=Path, default=ROOT.parent / "shared/audio/vb_dev")
    parser.add_argument("--tflite-dir", type=Path, default=ROOT / "tflite")
    parser.add_argument("--runs", type=int, default=3, help="timed passes per backend")
    parser.add_argument("--keras-threads", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="LiteRT thread counts to run each export with")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "backends")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="re-render the table and plot from an earlier run's JSON")
    args = parser.parse_args()
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text())
        write_outputs(saved["results"], saved["meta"], args.out)
        return

    from imse_keras.runtime import configure_tensorflow

    configure_tensorflow(args.keras_threads)
    from imse_keras.metrics.evaluate import load_mono_16k, pair_files
    from imse_keras.metrics import pesq_wb, stoi

    pairs = pair_files(args.vb_dev / "clean", args.vb_dev / "noisy")
    clean = [load_mono_16k(c) for c, _ in pairs]
    noisy = [load_mono_16k(n) for _, n in pairs]
    audio_s = sum(len(x) for x in noisy) / 16000
    print(f"{len(pairs)} files, {audio_s:.1f} s of audio, {args.runs} timed runs per backend",
          flush=True)

    results = []
    for label, kind, threads, size, factory in _backends(args):
        enhancer = factory()
        enhancer.enhance_waveform(noisy[0][:32000])  # warm-up: tracing, allocation
        rtfs, first = [], None
        for _ in range(args.runs):
            seconds, outs = _time_pass(enhancer, noisy)
            rtfs.append(seconds / audio_s)
            first = first or outs
        pesq = float(np.mean([pesq_wb(c, y, 16000) for c, y in zip(clean, first)]))
        st = float(np.mean([stoi(c, y, 16000) for c, y in zip(clean, first)]))
        row = {"backend": label, "mode": kind, "threads": threads, "size_bytes": size,
               "rtf_median": statistics.median(rtfs), "rtf_runs": rtfs, "pesq": pesq, "stoi": st}
        results.append(row)
        print(f"{label:16s} threads {threads}  {size / 1024:7.0f} KiB  RTF "
              f"{row['rtf_median']:.3f}  PESQ {pesq:.3f}  STOI {st:.4f}", flush=True)
        del enhancer

    meta = {"files": len(pairs), "audio_s": audio_s, "runs": args.runs,
            "machine": f"{platform.machine()} {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d")}
    write_outputs(results, meta, args.out)


def write_outputs(results: list[dict], meta: dict, out: Path) -> None:
    """The markdown table, the JSON (results + meta) and the PNG plot."""
    keras_pesq = results[0]["pesq"]
    lines = [
        f"Backends on {meta['files']} vb_dev utterances ({meta['audio_s']:.1f} s), one run of "
        "`.venv/bin/python bench/bench_backends.py`, "
        f"{meta['machine']}, {meta['date']}.",
        "RTF = processing time / audio duration, median of "
        f"{meta['runs']} passes (lower is faster). Official PyTorch RTF: ../shared/README.md.",
        "",
        "| backend | threads | file size | RTF | RTF vs official PyTorch | PESQ-WB | ΔPESQ vs Keras | STOI |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ref = OFFICIAL_PYTORCH_RTF[min(r["threads"], 2)]
        lines.append(
            f"| {r['backend']} | {r['threads']} | {r['size_bytes'] / 1024:.0f} KiB | "
            f"{r['rtf_median']:.3f} | {r['rtf_median'] / ref:.2f}x | {r['pesq']:.3f} | "
            f"{r['pesq'] - keras_pesq:+.3f} | {r['stoi']:.4f} |"
        )
    for t, rtf in OFFICIAL_PYTORCH_RTF.items():
        lines.append(f"| official PyTorch (quoted) | {t} | 1.7 MiB | {rtf:.2f} | 1.00x | 3.439 | | 0.961 |")
    out.parent.mkdir(parents=True, exist_ok=True)
    from imse_keras.atomic import write_text_atomic

    write_text_atomic(out.with_suffix(".md"), "\n".join(lines) + "\n")
    write_text_atomic(out.with_suffix(".json"),
                      json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    print("\n".join(lines))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing (pip install '.[report]'): no plot")
        return
    fig, ax = plt.subplots(figsize=(8, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    kinds = list(dict.fromkeys(r["backend"] for r in results))
    for r in results:
        color = colors[kinds.index(r["backend"]) % len(colors)]
        ax.scatter(r["rtf_median"], r["pesq"], color=color, s=45,
                   marker="o" if r["threads"] == 2 else "s",
                   label=f"{r['backend']}, {r['threads']} thread{'s' if r['threads'] > 1 else ''}")
    for t, rtf in OFFICIAL_PYTORCH_RTF.items():
        ax.scatter(rtf, 3.439, marker="x", color="k", s=45,
                   label=f"official PyTorch (quoted), {t} thread{'s' if t > 1 else ''}")
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    ax.set_xlabel("real-time factor (lower is faster)")
    ax.set_ylabel("mean PESQ-WB on vb_dev (25 files)")
    ax.set_title("IMSE backends: quality vs speed")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.md')}, .json, .png")


if __name__ == "__main__":
    main()
