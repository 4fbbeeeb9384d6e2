"""Atomic file writes: a temp file in the target's folder, then ``os.replace``.

Readers see the old file or the new one, never a part; on any error (a
``KeyboardInterrupt`` or SIGTERM's ``SystemExit`` included) the temp file is
removed and the target is left untouched. :func:`atomic_path` is the one
implementation; it serves writers that want a path (soundfile, Keras,
a download stream) as well as :func:`write_bytes_atomic` / :func:`write_text_atomic`.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "write_text_atomic", "write_bytes_atomic"]


def _current_umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temp file path beside ``path``; when the block ends normally it
    replaces ``path`` (with the permissions a new file gets, not mkstemp's 0600).

    The temp name is ``.<name>.<random><suffix>`` in the target's folder (so the
    final ``os.replace`` is on one file system); give writers that guess the
    format from the name the format explicitly. The target's folder must exist.

    Raises:
        OSError: the temp file cannot be created (the folder is missing or not
            writable), or the replace fails; whatever the block raises.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`), creating
    missing parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`write_bytes_atomic`)."""
    return write_bytes_atomic(path, text.encode("utf-8"))
