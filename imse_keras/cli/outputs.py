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

    The ``-o`` rule: ``output`` is a file when its name has an extension
    (``.wav`` or ``.flac``; exactly one input file), else a folder (created on
    write, a trailing ``/`` or an existing folder always is one) where each
    output keeps its input's file name.

    Raises:
        AudioError: a missing input, an empty directory, an output named as a
            format that is not written (``x.mp3``, ``x.txt``: only .wav and
            .flac).
        ValueError: several inputs for one output file, two inputs with the
            same name, or an output that would overwrite its input.
    """
    from imse_keras.cli.options import is_file_target

    out = Path(output)
    as_file = is_file_target(output)
    if as_file and out.suffix.lower() not in AUDIO_EXTENSIONS:
        kind = ("cannot write " + out.suffix.lstrip(".").upper()
                if out.suffix.lower() in _UNWRITTEN_AUDIO_EXTENSIONS
                else f"{out.suffix} is not an audio format written")
        raise AudioError(output, f"{kind}; outputs are {' or '.join(AUDIO_EXTENSIONS)} "
                         f"(or a folder: end it with /)")
    files = find_audio_files(inputs)
    single_file = as_file and len(files) == 1 and Path(inputs[0]).is_file()
    if as_file and not single_file:
        what = (f"{len(files)} files are to be enhanced" if len(files) > 1
                else f"the input {inputs[0]} is a folder")
        raise ValueError(f"-o {output} names one file but {what}; give a folder (end it with /)")
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
