"""Enhance an audio file block by block, with memory bounded by the segment size.

Two passes over the file: the first measures the length and RMS of the
signal at the model's rate (the normalisation is global, as in the official
code), the second reads, resamples, enhances segment by segment and writes.
At any time only about two segments of audio per channel, one network batch
and one read block are in memory, whatever the file's length.

The segments, their normalisation and the merge of the overlapping tail are
exactly those of :meth:`imse_keras.enhance.Enhancer.enhance_waveform`; at the
model's own rate the result is the same as enhancing the file in memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from imse_keras.audio_io import AudioError
from imse_keras.dsp.segment import merge_segments, plan_segments

__all__ = ["enhance_file_streaming", "READ_BLOCK"]

#: Frames read from the file per step.
READ_BLOCK = 1 << 16


def _model_rate_blocks(path: Path, target_sr: int) -> Iterator[np.ndarray]:
    """Yield ``[m, channels]`` float32 blocks of the file at ``target_sr``."""
    with sf.SoundFile(path) as f:
        sr, channels = int(f.samplerate), f.channels
        stream = None if sr == target_sr else soxr.ResampleStream(sr, target_sr, channels, "float32")
        while True:
            data = f.read(READ_BLOCK, dtype="float32", always_2d=True)
            last = len(data) < READ_BLOCK
            if not np.all(np.isfinite(data)):
                raise AudioError(path, "contains NaN or infinite samples")
            if stream is not None:
                data = stream.resample_chunk(data, last=last)
            if len(data):
                yield np.ascontiguousarray(data, dtype=np.float32)
            if last:
                return


class _Writer:
    """Resample back to the file's rate and write exactly ``n`` frames."""

    def __init__(self, f: sf.SoundFile, model_sr: int, file_sr: int, n: int, clip: bool):
        self.f, self.n, self.written, self.clip = f, n, 0, clip
        self.stream = (
            None if model_sr == file_sr else soxr.ResampleStream(model_sr, file_sr, f.channels, "float32")
        )

    def write(self, block: np.ndarray, last: bool = False) -> None:
        if self.stream is not None:
            block = self.stream.resample_chunk(block, last=last)
        block = block[: self.n - self.written]
        if self.clip:
            block = np.clip(block, -1.0, 1.0)
        if len(block):
            self.f.write(block)
            self.written += len(block)
        if last and self.written < self.n:  # resampling can fall a sample or two short
            self.f.write(np.zeros((self.n - self.written, self.f.channels), np.float32))
            self.written = self.n


def enhance_file_streaming(enhancer, src: str | os.PathLike, dst: str | os.PathLike) -> dict:
    """Enhance ``src`` into ``dst`` (same rate, channels, length, format), atomically.

    Args:
        enhancer: an :class:`imse_keras.enhance.Enhancer`.
        src: input WAV/FLAC path.
        dst: output path; written to a temp file beside it, then renamed.

    Returns:
        ``{"input", "output", "seconds", "sample_rate", "channels"}``.

    Raises:
        AudioError: unreadable, empty or non-finite input; unwritable output.
    """
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise AudioError(src, "no such file")
    if src.is_dir():
        raise AudioError(src, "is a directory, not an audio file")
    try:
        info = sf.info(src)
    except (sf.SoundFileError, RuntimeError) as err:
        raise AudioError(src, f"not a readable audio file ({err})") from err
    if info.frames <= 0:
        raise AudioError(src, "empty (0 samples)")
    cfg = enhancer.config
    seg, model_sr = cfg.segment_size, cfg.sampling_rate
    n, file_sr, channels = info.frames, int(info.samplerate), info.channels

    # Pass 1: length and energy per channel at the model's rate.
    length, energy = 0, np.zeros(channels, np.float64)
    for block in _model_rate_blocks(src, model_sr):
        length += len(block)
        b64 = block.astype(np.float64)
        energy += np.einsum("ij,ij->j", b64, b64)
    length = max(length, 1)  # a file of a few samples at a high rate
    with np.errstate(divide="ignore"):
        norms = np.where(energy > 0, np.sqrt(length / energy), 1.0)
    plan = plan_segments(length, seg)
    # Only the last two segments can overlap; they are merged together at the end.
    overlap_from = len(plan) - 2 if len(plan) >= 2 and plan[-1][0] < plan[-2][1] else len(plan)

    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
        os.close(fd)
    except OSError as err:
        raise AudioError(dst, f"cannot write in {dst.parent} ({err})") from err
    try:
        with sf.SoundFile(tmp, "w", samplerate=file_sr, channels=channels,
                          subtype=info.subtype, format=info.format) as out:
            writer = _Writer(out, model_sr, file_sr, n,
                             clip=info.subtype not in ("FLOAT", "DOUBLE"))
            blocks = _model_rate_blocks(src, model_sr)
            buf, buf_start = np.zeros((0, channels), np.float32), 0
            tail_outputs = []
            pending = []  # (segment index, [channels, seg] normalised input)

            def flush():
                batch = np.concatenate([x for _, x in pending], axis=0)  # [k*channels, seg]
                outs = enhancer.enhance_segments(batch).reshape(len(pending), channels, seg)
                for (i, _), o in zip(pending, outs):
                    a, b = plan[i]
                    if i >= overlap_from:
                        tail_outputs.append(o)
                    else:
                        writer.write((o[:, : b - a] / norms[:, None]).T.astype(np.float32))
                pending.clear()

            for i, (a, b) in enumerate(plan):
                while buf_start + len(buf) < b:
                    try:
                        buf = np.concatenate([buf, next(blocks)])
                    except StopIteration:
                        break
                x = np.zeros((channels, seg), np.float32)
                piece = buf[a - buf_start : b - buf_start].T
                # float64 product, as rms_normalize, so both paths round alike.
                x[:, : piece.shape[1]] = piece.astype(np.float64) * norms[:, None]
                pending.append((i, x))
                if len(pending) * channels >= enhancer.batch_size or i == len(plan) - 1:
                    flush()
                # Input before the next segment's start is no longer needed.
                keep_from = plan[i + 1][0] if i + 1 < len(plan) else b
                buf, buf_start = buf[keep_from - buf_start :], keep_from
            if tail_outputs:
                a0 = plan[overlap_from][0]
                sub_plan = [(a - a0, b - a0) for a, b in plan[overlap_from:]]
                merged = np.stack(
                    [merge_segments(np.stack([t[c] for t in tail_outputs]), sub_plan,
                                    plan[-1][1] - a0, mode=enhancer.overlap)
                     for c in range(channels)], axis=1)
                writer.write((merged / norms[None, :]).astype(np.float32), last=True)
            else:
                writer.write(np.zeros((0, channels), np.float32), last=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, (sf.SoundFileError, OSError)) and not isinstance(err, AudioError):
            raise AudioError(dst, f"could not write audio ({err})") from err
        raise
    return {"input": str(src), "output": str(dst), "seconds": n / file_sr,
            "sample_rate": file_sr, "channels": channels}
