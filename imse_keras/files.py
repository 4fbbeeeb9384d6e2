"""File-level enhancement: map inputs to outputs and enhance one file.

Outputs keep the input's sample rate, channel count, length and sample format
(e.g. 44.1 kHz stereo FLAC PCM_24 in, the same out); the container follows the
output's extension (``-o b.flac`` writes FLAC). They are written atomically, so
an interrupted or failed run never leaves a half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path

from imse_keras.audio_io import AUDIO_EXTENSIONS, AudioError, find_audio_files

# Extensions that name an audio file we do not write; an output path ending so
# is a mistake to report, not a folder to create.
_UNWRITTEN_AUDIO_EXTENSIONS = (".mp3", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wma",
                               ".aif", ".aiff", ".caf", ".w64", ".rf64", ".au", ".snd")

__all__ = ["plan_outputs", "enhance_file"]


def plan_outputs(inputs: list[str | os.PathLike], output: str | os.PathLike) -> list[tuple[Path, Path]]:
    """Pair every input audio file with its output path.

    ``output`` is a file when exactly one input file is given and ``output``
    ends in an audio extension; otherwise it is a directory (created on write)
    and each output keeps its input's file name.

    Raises:
        AudioError: a missing input, an empty directory, an output named as an
            audio format that is not written (``x.mp3``: only .wav and .flac).
        ValueError: two inputs with the same name, or an output that would
            overwrite its input.
    """
    out = Path(output)
    if out.suffix.lower() in _UNWRITTEN_AUDIO_EXTENSIONS and not out.is_dir():
        raise AudioError(output, f"cannot write {out.suffix.lstrip('.').upper()}; "
                         f"outputs are {' or '.join(AUDIO_EXTENSIONS)} (or a folder)")
    files = find_audio_files(inputs)
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


def enhance_file(enhancer, src: str | os.PathLike, dst: str | os.PathLike,
                 max_minutes: float | None = None) -> dict:
    """Enhance ``src`` into ``dst`` with an :class:`imse_keras.enhance.Enhancer`.

    The file is streamed (see :mod:`imse_keras.streaming`): memory stays
    bounded for recordings of any length. ``max_minutes`` refuses longer
    files (channel-minutes), stating their cost.

    Returns:
        ``{"input", "output", "seconds", "sample_rate", "channels"}``.

    Raises:
        AudioError: unreadable, empty, too long or non-finite input;
            unwritable output. Nothing is written then.
    """
    from imse_keras.streaming import enhance_file_streaming

    return enhance_file_streaming(enhancer, src, dst, max_minutes=max_minutes)
