"""Where ``imse enhance`` writes: pair every input file with its output path.

The ``-o`` rule of every command (:func:`imse_keras.cli.options.is_file_target`)
applied to audio: one input file and an ``-o`` with an audio extension is a
file; anything else is a folder where each output keeps its input's name.
"""

from __future__ import annotations

import os
from pathlib import Path

from imse_keras.audio_io import AUDIO_EXTENSIONS, AudioError, find_audio_files

# Extensions that name an audio file we do not write; an output path ending so
# is a mistake to report, not a folder to create.
_UNWRITTEN_AUDIO_EXTENSIONS = (".mp3", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wma",
                               ".aif", ".aiff", ".caf", ".w64", ".rf64", ".au", ".snd")

__all__ = ["plan_outputs"]


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
        and not os.fspath(output).endswith(("/", os.sep))
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
