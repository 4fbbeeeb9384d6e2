"""Freshness of the Android fixtures: the SHA-256 of every source file that made them.

``make_fixtures.py`` records, in ``fixtures/inputs.json``, the hash of itself and of every
``imse_keras`` module that was loaded while it wrote the fixtures (the front end, the synthetic
signal, the model, the export pipeline, the runner), less the few in ``NOT_INPUTS``. This check recomputes those hashes: when
any of the files changed or is gone, the fixtures may no longer be what the library produces,
and it fails with the command that regenerates them. Standard library only, so it runs before
any environment exists::

    python3 android_demo/tools/fixture_inputs.py --check      # exit 1 and a message if stale

Library versions (numpy, TensorFlow, ai-edge-litert) are recorded in the same file for the
record, but not checked: they depend on the machine, not on the repository.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "android_demo" / "core" / "src" / "test" / "resources" / "fixtures"
RECORD = FIXTURES / "inputs.json"
REGENERATE = ".venv/bin/python android_demo/tools/make_fixtures.py"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Loaded while the fixtures are made, but on no path that computes them: the package's lazy
# top-level exports, file writing and decoding (the fixtures' WAV is written with the standard
# library's wave, at 16 kHz, nothing resampled), and the synth modules other than harmonic
# that ``imse_keras.synth`` imports but make_fixtures.py never calls. Everything else that was
# loaded counts: a change there may change the numbers.
NOT_INPUTS = frozenset({
    "imse_keras/__init__.py", "imse_keras/atomic.py", "imse_keras/audio_io.py",
    "imse_keras/synth/__init__.py", "imse_keras/synth/mix.py", "imse_keras/synth/noise.py",
    "imse_keras/synth/speech.py",
})


def loaded_inputs(modules=None) -> dict[str, str]:
    """``{repo-relative path: sha256}`` of make_fixtures.py and the loaded imse_keras modules."""
    modules = sys.modules if modules is None else modules
    files = {ROOT / "android_demo" / "tools" / "make_fixtures.py"}
    for name, module in list(modules.items()):
        path = getattr(module, "__file__", None)
        if name.split(".")[0] == "imse_keras" and path:
            p = Path(path).resolve()
            if p.suffix == ".py" and ROOT in p.parents:
                files.add(p)
    rel = {p.relative_to(ROOT).as_posix(): p for p in files}
    return {r: sha256(p) for r, p in sorted(rel.items()) if r not in NOT_INPUTS}


def write_record(inputs: dict[str, str], versions: dict[str, str], path: Path = RECORD) -> None:
    record = {"regenerate": REGENERATE, "inputs": inputs, "versions": versions}
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def stale_reasons() -> list[str]:
    """Why the fixtures are stale; empty when every recorded input is unchanged."""
    if not RECORD.is_file():
        return [f"{RECORD.relative_to(ROOT)} is missing"]
    try:
        inputs = json.loads(RECORD.read_text())["inputs"]
    except (ValueError, KeyError, TypeError) as e:
        return [f"{RECORD.relative_to(ROOT)} is unreadable ({e})"]
    if not inputs:
        return [f"{RECORD.relative_to(ROOT)} lists no inputs"]
    reasons = []
    for rel, digest in sorted(inputs.items()):
        path = ROOT / rel
        if not path.is_file():
            reasons.append(f"{rel} is gone")
        elif sha256(path) != digest:
            reasons.append(f"{rel} changed")
    return reasons


def message(reasons: list[str]) -> str:
    shown = ", ".join(reasons[:5]) + (f" and {len(reasons) - 5} more" if len(reasons) > 5 else "")
    return (f"Android fixtures are stale ({shown} since they were made). Regenerate them from "
            f"the repository root with: {REGENERATE}")


def main(argv: list[str]) -> int:
    if argv[1:] != ["--check"]:
        print(__doc__)
        return 2
    reasons = stale_reasons()
    if reasons:
        print("FAIL: " + message(reasons))
        return 1
    inputs = json.loads(RECORD.read_text())["inputs"]
    print(f"OK: Android fixtures match their {len(inputs)} recorded input files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
