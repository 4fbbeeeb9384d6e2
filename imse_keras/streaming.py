"""Enhance an audio file block by block, with memory bounded by the segment size.

Two passes over the file: the first measures the length and RMS of the
signal at the model's rate (the normalisation is global, as in the official
code), the second reads, resamples, enhances segment by segment and writes.
At any time only about two segments of audio per channel, one network batch
and one read block are in memory, whatever the file's length.

The segments, their normalisation and the merge of the overlapping tail are
the enhancer's :class:`~imse_keras.frontend.FrontEnd` steps, as in
:meth:`imse_keras.enhance.Enhancer.enhance_waveform`, with the norm's energy
summed block by block; at the model's own rate the result is the same as
enhancing the file in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from imse_keras.atomic import atomic_path
from imse_keras.audio_io import (AudioError, iter_audio_blocks, output_format, probe_audio,
                                 write_error)
from imse_keras.dsp.normalize import rms_scale

__all__ = ["enhance_file_streaming", "READ_BLOCK", "COMPUTE_PER_AUDIO_SECOND"]

#: Frames read from the file per step.
READ_BLOCK = 1 << 16

#: Seconds of compute per second of audio and channel for the float model on
#: the 2-core reference machine (README, backends table: RTF 0.526); used
#: only to state the cost of a file over ``max_minutes``.
COMPUTE_PER_AUDIO_SECOND = 0.53


class _Counter:
    """Frames seen at the file's rate while blocks go by."""

    def __init__(self):
        self.frames = 0


def _model_rate_blocks(path: Path, file_sr: int, channels: int, target_sr: int,
                       counter: _Counter) -> Iterator[np.ndarray]:
    """Yield ``[m, channels]`` float32 blocks of the file at ``target_sr``.

    Decoding errors and NaN/inf samples raise :class:`AudioError` (from
    :func:`iter_audio_blocks`); ``counter.frames`` counts decoded frames.
    """
    stream = None if file_sr == target_sr else soxr.ResampleStream(
        file_sr, target_sr, channels, "float32")
    blocks = iter_audio_blocks(path, READ_BLOCK)
    block = next(blocks, None)
    while block is not None:
        counter.frames += len(block)
        following = next(blocks, None)
        data = block if stream is None else stream.resample_chunk(block, last=following is None)
        if len(data):
            yield np.ascontiguousarray(data, dtype=np.float32)
        block = following


def _check_cost(src: Path, seconds: float, channels: int, max_minutes: float | None) -> None:
    if max_minutes is None or seconds * channels <= max_minutes * 60:
        return
    hours = seconds / 3600
    cost = seconds * channels * COMPUTE_PER_AUDIO_SECOND / 3600
    raise AudioError(
        src, f"{hours:.1f} h of audio x {channels} channel(s) is over the limit of "
        f"{max_minutes:g} channel-minutes; it would take about {cost:.1f} h of compute on 2 cores "
        f"(float model); raise --max-minutes to {int(seconds * channels / 60) + 1} to enhance it",
    )


class _Writer:
    """Resample back to the file's rate and write exactly ``n`` frames."""

    def __init__(self, f: sf.SoundFile, model_sr: int, file_sr: int, n: int, clip: bool,
                 src: Path):
        self.f, self.n, self.written, self.clip, self.src = f, n, 0, clip, src
        self.stream = (
            None if model_sr == file_sr else soxr.ResampleStream(model_sr, file_sr, f.channels, "float32")
        )

    def write(self, block: np.ndarray, last: bool = False) -> None:
        if self.stream is not None:
            block = self.stream.resample_chunk(block, last=last)
        block = block[: self.n - self.written]
        if not np.all(np.isfinite(block)):  # e.g. float input near float32's limit
            raise AudioError(self.src, "enhancing it gave NaN/inf samples (input level out of "
                             "float32 range?); nothing written")
        if self.clip:
            block = np.clip(block, -1.0, 1.0)
        if len(block):
            self.f.write(block)
            self.written += len(block)
        if last and self.written < self.n:  # resampling can fall a sample or two short
            self.f.write(np.zeros((self.n - self.written, self.f.channels), np.float32))
            self.written = self.n


def enhance_file_streaming(enhancer, src: str | os.PathLike, dst: str | os.PathLike,
                           max_minutes: float | None = None) -> dict:
    """Enhance ``src`` into ``dst`` (same rate, channels, length), atomically.

    The container follows ``dst``'s extension (``.wav`` or ``.flac``, see
    :func:`imse_keras.audio_io.output_format`); the sample format is the
    input's where the container can store it. The length is the number of
    frames decoded, not what the header claims. Nothing is left at ``dst``
    (nor a temp file beside it) when anything fails, interruptions included.

    Args:
        enhancer: an :class:`imse_keras.enhance.Enhancer`.
        src: input WAV/FLAC path.
        dst: output path; written to a temp file beside it, then renamed.
        max_minutes: refuse files longer than this many minutes of audio
            counted per channel (a stereo minute counts two), stating the
            compute it would take; ``None``: no limit.

    Returns:
        ``{"input", "output", "seconds", "sample_rate", "channels"}``.

    Raises:
        AudioError: unreadable, undecodable, empty, too long or non-finite
            input; an output extension other than .wav/.flac; unwritable output.
    """
    src, dst = Path(src), Path(dst)
    info = probe_audio(src)
    out_format, out_subtype = output_format(dst, info.subtype, like=info.format)
    fe = enhancer.frontend
    seg, model_sr = fe.segment_size, fe.sampling_rate
    file_sr, channels = info.sample_rate, info.channels
    if info.frames is not None:  # refuse early when the header already says so
        _check_cost(src, info.frames / file_sr, channels, max_minutes)

    # Pass 1: length (decoded, at both rates) and energy per channel.
    counted = _Counter()
    length, energy = 0, np.zeros(channels, np.float64)
    for block in _model_rate_blocks(src, file_sr, channels, model_sr, counted):
        length += len(block)
        b64 = block.astype(np.float64)
        energy += np.einsum("ij,ij->j", b64, b64)
    n = counted.frames
    if n == 0:
        raise AudioError(src, "empty (no decodable samples)")
    _check_cost(src, n / file_sr, channels, max_minutes)
    length = max(length, 1)  # a file of a few samples at a high rate
    norms = rms_scale(energy, length)  # [channels], as FrontEnd.normalize per channel
    plan = fe.segments(length)
    # Only the last two segments can overlap; they are merged together at the end.
    overlap_from = len(plan) - 2 if len(plan) >= 2 and plan[-1][0] < plan[-2][1] else len(plan)

    try:
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise AudioError(dst, f"cannot write in {dst.parent} ({err})") from err
        with atomic_path(dst) as tmp:
            reread = _Counter()
            try:
                out = sf.SoundFile(tmp, "w", samplerate=file_sr, channels=channels,
                                   subtype=out_subtype, format=out_format)
            except (sf.SoundFileError, RuntimeError, ValueError) as err:
                raise AudioError(dst, f"{out_format} cannot hold {channels} channel(s) of "
                                 f"{out_subtype} at {file_sr} Hz ({err}); try .wav") from err
            with out:
                writer = _Writer(out, model_sr, file_sr, n,
                                 clip=out_subtype not in ("FLOAT", "DOUBLE"), src=src)
                blocks = _model_rate_blocks(src, file_sr, channels, model_sr, reread)
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
                            writer.write(fe.denormalize(o[:, : b - a], norms[:, None]).T)
                    pending.clear()

                for i, (a, b) in enumerate(plan):
                    while buf_start + len(buf) < b:
                        try:
                            buf = np.concatenate([buf, next(blocks)])
                        except StopIteration:
                            break
                    x = np.zeros((channels, seg), np.float32)
                    piece = buf[a - buf_start : b - buf_start].T
                    # The same rounding as FrontEnd.normalize in memory.
                    x[:, : piece.shape[1]] = fe.apply_scale(piece, norms[:, None])
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
                        [fe.merge(np.stack([t[c] for t in tail_outputs]), sub_plan,
                                  plan[-1][1] - a0, enhancer.overlap)
                         for c in range(channels)], axis=1)
                    writer.write(fe.denormalize(merged, norms[None, :]), last=True)
                else:
                    writer.write(np.zeros((0, channels), np.float32), last=True)
                for _ in blocks:  # decode to the end: the file must not have changed
                    pass
                if reread.frames != n:
                    raise AudioError(src, f"decoded {n} frames, then {reread.frames}: "
                                     "changed while being read?")
    except BaseException as err:
        if isinstance(err, (sf.SoundFileError, OSError)) and not isinstance(err, AudioError):
            raise write_error(dst, err) from err
        raise
    return {"input": str(src), "output": str(dst), "seconds": n / file_sr,
            "sample_rate": file_sr, "channels": channels}
