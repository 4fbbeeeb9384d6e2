"""Fuzz the file path ``imse enhance`` takes with mutated WAV, WAVEX, RF64 and FLAC files.

Each mutated file goes through :func:`imse_keras.streaming.enhance_file_streaming` (what the
CLI calls per file) with an identity spectral backend, so the test measures the
I/O and front end, not the network. For every file, within a time limit:

* the only exception is :class:`~imse_keras.audio_io.AudioError`;
* a failure leaves nothing behind (no output, no temp file);
* a success has the input's length, rate and channels, where the input is
  what :func:`~imse_keras.audio_io.read_audio` decodes (both must agree).

The files are generated deterministically from a seed; the default run is a
few hundred files, ``-m slow`` runs a few thousand.
"""

from __future__ import annotations

import faulthandler
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from imse_keras.audio_io import AudioError, read_audio
from imse_keras.enhance import Enhancer
from imse_keras.streaming import enhance_file_streaming as enhance_file

#: Seconds one file may take (an 8 KB file takes ~0.05 s; a hang never ends).
PER_FILE_LIMIT = 10.0


def _identity(mag_c, pha):
    return mag_c, pha


def _seed_files(folder: Path) -> list[Path]:
    """Small valid files of every container the fuzzer mutates."""
    rng = np.random.default_rng(1)

    def sig(n, ch):
        return (0.3 * rng.standard_normal((n, ch))).astype(np.float32)

    specs = [
        ("pcm16.wav", 3000, 1, 16000, "WAV", "PCM_16"),
        ("float.wav", 2000, 2, 44100, "WAV", "FLOAT"),
        ("pcm24.wavex", 2500, 2, 48000, "WAVEX", "PCM_24"),
        ("u8.wav", 3000, 1, 8000, "WAV", "PCM_U8"),
        ("rf64.wav", 2000, 1, 22050, "RF64", "PCM_16"),
        ("pcm16.flac", 4000, 1, 16000, "FLAC", "PCM_16"),
        ("pcm24.flac", 3000, 2, 48000, "FLAC", "PCM_24"),
    ]
    paths = []
    for name, n, ch, sr, fmt, subtype in specs:
        path = folder / name
        sf.write(path, sig(n, ch), sr, format=fmt, subtype=subtype)
        paths.append(path)
    # A FLAC whose STREAMINFO leaves the length unset.
    stream = folder / "nolen.flac"
    sf.write(stream, sig(3500, 1), 16000, format="FLAC")
    data = bytearray(stream.read_bytes())
    word = int.from_bytes(data[18:26], "big") & ~((1 << 36) - 1)
    data[18:26] = word.to_bytes(8, "big")
    stream.write_bytes(bytes(data))
    paths.append(stream)
    return paths


_EXTREMES = (0, 1, 2, 3, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000)


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to three random mutations of a file's bytes (header-heavy)."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 6))
        header = min(len(b), 96)
        if kind == 0 and len(b):  # flip bytes, mostly in the header
            for _ in range(int(rng.integers(1, 16))):
                hi = header if rng.random() < 0.6 else len(b)
                b[int(rng.integers(0, hi))] ^= int(rng.integers(1, 256))
        elif kind == 1 and len(b) > 1:  # truncate
            del b[int(rng.integers(0, len(b))):]
        elif kind == 2 and len(b) >= 8:  # a header field set to an extreme
            at = int(rng.integers(0, max(1, header - 4)))
            value = int(rng.choice(_EXTREMES)) if rng.random() < 0.7 else int(rng.integers(0, 2**32))
            size = 2 if rng.random() < 0.3 else 4
            b[at : at + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        elif kind == 3:  # insert junk
            at = int(rng.integers(0, len(b) + 1))
            b[at:at] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
        elif kind == 4 and len(b) > 8:  # zero a run
            at = int(rng.integers(0, len(b)))
            b[at : at + int(rng.integers(1, 256))] = bytes(min(len(b) - at, 256))
        elif len(b) > 64:  # swap two blocks of the body
            n = int(rng.integers(4, 64))
            i, j = sorted(int(v) for v in rng.integers(0, len(b) - n, 2))
            b[i : i + n], b[j : j + n] = b[j : j + n], b[i : i + n]
    return bytes(b)


class _TimeLimit(Exception):
    pass


def _on_alarm(signum, frame):
    raise _TimeLimit


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def run_fuzz(tmp_path: Path, count: int, seed: int) -> dict:
    enhancer = Enhancer(_identity, "imse", batch_size=4)
    seeds = _seed_files(tmp_path)
    originals = [p.read_bytes() for p in seeds]
    rng = np.random.default_rng(seed)
    work, out = tmp_path / "fuzz", tmp_path / "out"
    work.mkdir()
    outcomes = {"ok": 0, "error": 0, "slowest_s": 0.0, "reasons": {}}
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    # A hang inside C code cannot be interrupted by Python: dump and exit then.
    faulthandler.dump_traceback_later(count * PER_FILE_LIMIT + 60, exit=True)
    try:
        for i in range(count):
            k = int(rng.integers(0, len(seeds)))
            src = work / f"f{i:05d}_{seeds[k].name}"
            src.write_bytes(mutate(originals[k], rng))
            dst = out / f"f{i:05d}{'.flac' if seeds[k].suffix == '.flac' else '.wav'}"
            start = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, PER_FILE_LIMIT)
            try:
                enhance_file(enhancer, src, dst)
                error = None
            except AudioError as err:
                error = err
            except _TimeLimit:
                pytest.fail(f"{src.name} took over {PER_FILE_LIMIT} s (seed {seed})")
            except Exception as err:  # the very thing the test is for
                pytest.fail(f"{src.name}: {type(err).__name__}: {err} (seed {seed})")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            outcomes["slowest_s"] = max(outcomes["slowest_s"], time.perf_counter() - start)
            if error is not None:
                assert str(error).startswith(str(src)) or str(error).startswith(str(dst)), error
                assert _leftovers(out) == [], (src.name, _leftovers(out))
                outcomes["error"] += 1
                reason = error.reason.split("(")[0].strip()
                outcomes["reasons"][reason] = outcomes["reasons"].get(reason, 0) + 1
                src.unlink()
                continue
            got, want = read_audio(dst), read_audio(src)
            assert (got.num_samples, got.sample_rate, got.num_channels) == (
                want.num_samples, want.sample_rate, want.num_channels), src.name
            assert np.all(np.isfinite(got.samples))
            assert not [n for n in _leftovers(out) if n.startswith(".")]
            outcomes["ok"] += 1
            dst.unlink()
            src.unlink()
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)
    return outcomes


def test_seed_files_enhance_to_their_own_shape(tmp_path):
    enhancer = Enhancer(_identity, "imse")
    for src in _seed_files(tmp_path):
        dst = tmp_path / "out" / (src.stem + (".flac" if src.suffix == ".flac" else ".wav"))
        enhance_file(enhancer, src, dst)
        got, want = read_audio(dst), read_audio(src)
        assert (got.num_samples, got.sample_rate, got.num_channels) == (
            want.num_samples, want.sample_rate, want.num_channels)


def test_fuzz_mutated_files(tmp_path):
    outcomes = run_fuzz(tmp_path, count=300, seed=12)
    # Both outcomes occur: the mutations neither all break nor all spare the files.
    assert outcomes["ok"] > 20 and outcomes["error"] > 20, outcomes


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_fuzz_mutated_files_long(tmp_path, seed):
    outcomes = run_fuzz(tmp_path, count=1500, seed=seed)
    assert outcomes["ok"] > 100 and outcomes["error"] > 100, outcomes
