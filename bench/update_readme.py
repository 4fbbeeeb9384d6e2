"""Regenerate the README's results tables from the commands that measure them.

Each generated block of ``README.md`` sits between
``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->``; this
script rewrites those blocks from the result files in ``bench/results/``,
which the commands in :data:`COMMANDS` write. Nothing in a block is typed by
hand, and ``tests/test_readme.py`` fails when a block no longer matches its
result files.

Usage::

    .venv/bin/python bench/update_readme.py            # re-render from bench/results/
    .venv/bin/python bench/update_readme.py --run      # run every command first (~1 h on 2 cores)
    .venv/bin/python bench/update_readme.py --check    # exit 1 if README is stale

The commands need ``../shared`` (vb_dev and the official weights) and the
exported models in ``tflite/`` (see tflite/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
VB = "../shared/audio/vb_dev"
IMSE = ".venv/bin/imse"
PEERS = "../shared/peers"
#: Streaming ONNX peers in the compare table: (name, file in ../shared/peers).
ONNX_PEERS = (
    ("FastEnhancer-T", "fastenhancer_t.spec.onnx"),
    ("FastEnhancer-S", "fastenhancer_s.spec.onnx"),
    ("FastEnhancer-M", "fastenhancer_m.spec.onnx"),
    ("GTCRN", "gtcrn_vb_stream.onnx"),
)

#: (result file, command that writes it), run from the repository root in order.
COMMANDS: list[tuple[str, str]] = [
    ("calibration audio", f"{IMSE} make-demo-data -o /tmp/imse_calib --train-files 40 --test-files 0 "
     "--noise-dir ../shared/audio/noise --snr-min 0 --snr-max 20 --seed 7"),
    ("tflite/imse_*.tflite", f"{IMSE} export --mode all --calib "
     "/tmp/imse_calib/noisy_trainset_28spk_wav --calib-count 32 -q"),
    ("eval_noisy.json", f"{IMSE} evaluate --clean {VB}/clean --enhanced {VB}/noisy -q "
     "-o bench/results/eval_noisy.json"),
    ("eval_keras_official.json", f"{IMSE} evaluate --clean {VB}/clean --noisy {VB}/noisy "
     "--overlap official -q -o bench/results/eval_keras_official.json"),
    ("eval_keras_crossfade.json", f"{IMSE} evaluate --clean {VB}/clean --noisy {VB}/noisy "
     "-q -o bench/results/eval_keras_crossfade.json"),
    ("eval_tflite_int8.json", f"{IMSE} evaluate --clean {VB}/clean --noisy {VB}/noisy "
     "--backend tflite --model tflite/imse_int8.tflite -q "
     "-o bench/results/eval_tflite_int8.json"),
    ("validate_int8.md", f"{IMSE} validate --clean {VB}/clean --noisy {VB}/noisy "
     "--model tflite/imse_int8.tflite -q -o bench/results/validate_int8.json "
     "-o bench/results/validate_int8.md"),
    ("compare_vbdev.md", f"{IMSE} compare --clean {VB}/clean --noisy {VB}/noisy "
     + "".join(f"--peer {name}={PEERS}/{file} " for name, file in ONNX_PEERS)
     + "--model tflite/imse_int8.tflite -q -o bench/results/compare_vbdev.json "
     "-o bench/results/compare_vbdev.md"),
    ("backends.md", ".venv/bin/python bench/bench_backends.py --runs 1 --threads 2 "
     "--out bench/results/backends"),
    ("arm-emu counts", "bash ../shared/tools/arm-emu/check.sh -o /tmp/imse_arm -f "
     "tflite/imse_float32.tflite tflite/imse_float32.tflite tflite/imse_int8.tflite"),
    ("speed.md", ".venv/bin/python bench/speed.py --arm-dir /tmp/imse_arm --runs 7 "
     "--out bench/results/speed"),    ("ray_workers.md", ".venv/bin/python bench/ray_workers.py --files 12"),
]

# Official PyTorch reference on the same 25 files (../shared/README.md).
OFFICIAL = {"pesq": 3.439, "stoi": 0.961}
_EVAL_ROWS = (
    ("noisy input", "eval_noisy.json"),
    ("imse-keras float32, `--overlap official` (the authors' segmentation)",
     "eval_keras_official.json"),
    ("imse-keras float32, `--overlap crossfade` (default)", "eval_keras_crossfade.json"),
    ("imse int8 TFLite (`--backend tflite`), crossfade", "eval_tflite_int8.json"),
)
_METRICS = ("pesq", "stoi", "si_sdr", "csig", "cbak", "covl", "ssnr")


def _command_of(name: str) -> str:
    return dict(COMMANDS)[name]


def render_eval(results: Path = RESULTS) -> str:
    lines = [
        "| system | PESQ-WB | STOI | SI-SDR | CSIG | CBAK | COVL | SSNR |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, name in _EVAL_ROWS:
        if name == "eval_keras_official.json":
            lines.append(f"| official PyTorch, its `inference.py` (../shared/README.md) | "
                         f"{OFFICIAL['pesq']:.3f} | {OFFICIAL['stoi']:.3f} | — | — | — | — | — |")
        path = results / name
        if not path.is_file():
            continue
        mean = json.loads(path.read_text())["mean"]
        cells = [f"{mean[k]:.3f}" if k in ("pesq", "stoi", "csig", "cbak", "covl")
                 else f"{mean[k]:.2f}" for k in _METRICS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    commands = [_command_of(name) for _, name in _EVAL_ROWS if (results / name).is_file()]
    return "\n".join(lines) + "\n\n```bash\n" + "\n".join(commands) + "\n```"


def _file_block(name: str, results: Path = RESULTS) -> str:
    path = results / name
    if not path.is_file():
        return f"(not measured yet: run `{_command_of(name)}`)"
    return path.read_text().strip() + f"\n\n```bash\n{_command_of(name)}\n```"


def compare_verdict(results: Path = RESULTS) -> str:
    """Where IMSE wins and loses against the streaming peers, from compare_vbdev.json
    (``""`` when the file lacks them)."""
    path = results / "compare_vbdev.json"
    if not path.is_file():
        return ""
    systems = {s["name"]: s for s in json.loads(path.read_text())["systems"]}
    imse = systems.get("imse-keras")
    streams = [systems[n] for n, _ in ONNX_PEERS if n in systems]
    if imse is None or not streams or imse.get("macs_per_second") is None or \
            any(s.get("macs_per_second") is None for s in streams):
        return ""
    best = max(streams, key=lambda s: s["mean"]["pesq"])
    cheap = min(streams, key=lambda s: s["macs_per_second"])
    m, b = imse["mean"], best["mean"]
    dns = "dnsmos_ovrl" in m and "dnsmos_ovrl" in b
    scores = (f"PESQ-WB {m['pesq']:.3f}, STOI {m['stoi']:.3f}"
              + (f", DNSMOS OVRL {m['dnsmos_ovrl']:.3f}" if dns else ""))
    best_scores = (f"{b['pesq']:.3f}, {b['stoi']:.3f}" + (f", {b['dnsmos_ovrl']:.3f}" if dns else ""))
    g = imse["macs_per_second"] / 1e9
    lead = m["pesq"] - b["pesq"]
    quality = "**Where IMSE wins: quality.**" if lead > 0 else \
        "**IMSE does not win on quality here.**"
    return (
        f"{quality} IMSE (Keras float32) scores {scores}; the best streaming model here by "
        f"PESQ, {best['name']}, {best_scores}: {lead:+.3f} PESQ for IMSE. "
        f"**Where it loses: compute and latency.** IMSE costs {g:.2f} GMAC per second of audio, "
        f"{imse['macs_per_second'] / best['macs_per_second']:.0f}x {best['name']} "
        f"({best['macs_per_second'] / 1e9:.2f}) and "
        f"{imse['macs_per_second'] / cheap['macs_per_second']:.0f}x {cheap['name']} "
        f"({cheap['macs_per_second'] / 1e9:.3f}); here it used {imse['cpu_rtf']:.2f} CPU seconds "
        f"per second of audio against {best['cpu_rtf']:.3f} for {best['name']} "
        f"({imse['cpu_rtf'] / best['cpu_rtf']:.0f}x). It is non-causal and works on whole "
        f"{imse['latency_ms'] / 1000:.2f} s segments, so its output lags its input by at least "
        f"that; the streaming models emit one hop at a time, {best['latency_ms']:.0f} ms of "
        "algorithmic latency (their STFT window). For a live call or a hearing aid pick a "
        "streaming model; for files, IMSE."
    )


def render_compare(results: Path = RESULTS) -> str:
    """The compare table (its own Markdown file), the verdict, the command."""
    block = _file_block("compare_vbdev.md", results)
    verdict = compare_verdict(results)
    if not verdict:
        return block
    table, _, command = block.partition("\n\n```bash\n")
    return f"{table}\n\n{verdict}\n\n```bash\n{command}"


def render_validation(results: Path = RESULTS) -> str:
    """The mean row of ``imse validate`` (per-file table: bench/results/validate_int8.md)."""
    path = results / "validate_int8.json"
    if not path.is_file():
        return f"(not measured yet: run `{_command_of('validate_int8.md')}`)"
    report = json.loads(path.read_text())
    m = report["mean"]
    size = report["settings"].get("model_bytes")
    size = f"{size:,} B" if size else "?"
    lines = [
        "| model | file size | PESQ-WB float → int8 | drop | STOI float → int8 | drop | "
        "SNR int8 vs float | files | bound |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| `{report['model']}` | {size} | {m['pesq_float']:.4f} → {m['pesq_tflite']:.4f} | "
        f"{m['pesq_drop']:+.4f} | {m['stoi_float']:.4f} → {m['stoi_tflite']:.4f} | "
        f"{m['stoi_drop']:+.4f} | {m['snr_db']:.1f} dB | {m['n']} | "
        f"{'PASS' if report['passed'] else 'FAIL'} (≤ {report['max_pesq_drop']}) |",
    ]
    return ("\n".join(lines) + "\n\nPer file: `bench/results/validate_int8.md`.\n\n```bash\n"
            + _command_of("validate_int8.md") + "\n```")


def sections(results: Path = RESULTS) -> dict[str, str]:
    """Every generated block, by name."""
    return {
        "vbdev": render_eval(results),
        "validate-int8": render_validation(results),
        "compare": render_compare(results),
        "backends": _file_block("backends.md", results),
        "speed": _file_block("speed.md", results),
        "ray-workers": _file_block("ray_workers.md", results),
    }


def render_readme(text: str, blocks: dict[str, str]) -> str:
    """``text`` with every ``generated:NAME`` block replaced."""
    for name, body in blocks.items():
        pattern = re.compile(
            rf"(<!-- BEGIN generated:{re.escape(name)} -->\n).*?(<!-- END generated:{re.escape(name)} -->)",
            re.S,
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md has no generated:{name} block")
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="run every command first")
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args()
    if args.run:
        RESULTS.mkdir(parents=True, exist_ok=True)
        for _, command in COMMANDS:
            print(f"$ {command}", flush=True)
            subprocess.run(shlex.split(command), cwd=ROOT, check=True, env=dict(os.environ))
    text = README.read_text()
    new = render_readme(text, sections())
    if args.check:
        if new != text:
            print("README.md is stale: run .venv/bin/python bench/update_readme.py")
            return 1
        return 0
    if new != text:
        from imse_keras.atomic import write_text_atomic

        write_text_atomic(README, new)
        print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
