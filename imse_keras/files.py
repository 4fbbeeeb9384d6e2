"""File-level enhancement: map inputs to outputs and enhance one file.

Outputs keep the input's sample rate, channel count, length, container format
and sample format (e.g. 44.1 kHz stereo FLAC PCM_24 in, the same out), and are
written atomically, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path

from imse_keras.audio_io import AUDIO_EXTENSIONS, find_audio_files

__all__ = ["plan_outputs", "enhance_file"]


def plan_outputs(inputs: list[str | os.PathLike], output: str | os.PathLike) -> list[tuple[Path, Path]]:
    """Pair every input audio file with its output path.

    ``output`` is a file when exactly one input file is given and ``output``
    ends in an audio extension; otherwise it is a directory (created on write)
    and each output keeps its input's file name.

    Raises:
        AudioError: a missing input, an empty directory.
        ValueError: two inputs with the same name, or an output that would
            overwrite its input.
    """
    files = find_audio_files(inputs)
    out = Path(output)
    single_file = (
        len(files) == 1
        and out.suffix.lower() in AUDIO_EXTENSIONS
        and not out.is_dir()
        and Path(inputs[0]).is_file()
    )
    pairs = [(files[0], out)] if single_file else [(f, out / f.name) for f in files]
    seen: dict[str, Path] = {}
    for src, dst in pairs:
        key = str(dst.resolve())
        if key in seen:
            raise ValueError(f"{src} and {seen[key]} would both be written to {dst}")
        seen[key] = src
        if dst.exists() and dst.resolve() == src.resolve():
            raise ValueError(f"refusing to overwrite the input {src}; choose another -o")
    return pairs


def enhance_file(enhancer, src: str | os.PathLike, dst: str | os.PathLike) -> dict:
    """Enhance ``src`` into ``dst`` with an :class:`imse_keras.enhance.Enhancer`.

    The file is streamed (see :mod:`imse_keras.streaming`): memory stays
    bounded for recordings of any length.

    Returns:
        ``{"input", "output", "seconds", "sample_rate", "channels"}``.

    Raises:
        AudioError: unreadable, empty or non-finite input; unwritable output.
    """
    from imse_keras.streaming import enhance_file_streaming

    return enhance_file_streaming(enhancer, src, dst)
