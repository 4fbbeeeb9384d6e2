"""The official IMSE checkpoints: registry, verified download and cache.

The two published generator checkpoints (PyTorch zip-pickles, MIT licence,
(c) 2025 Xinxin Tang) are pinned by repository commit, size and SHA-256.
:func:`resolve_checkpoint` finds a checkpoint file, in this order:

1. ``local_path``, or ``name_or_path`` when it is an existing file;
2. ``$IMSE_WEIGHTS``: a checkpoint file (used for every registry name), or a
   folder holding ``<name>`` (e.g. ``../shared/official``); an official file
   found in such a folder is also copied into the cache (SHA-256 checked), so
   later runs without ``$IMSE_WEIGHTS`` find it offline;
3. the cache, ``cache_dir() / <name>``, if its SHA-256 matches;
4. a download into the cache, from GitHub or from the mirror
   ``$IMSE_WEIGHTS_BASE_URL`` (``<base>/<name>``; for machines that cannot
   reach GitHub). Every download is checked for size and SHA-256 before it is
   moved into place.

Environment variables:
    ``IMSE_WEIGHTS``: checkpoint file, or folder of checkpoints.
    ``IMSE_CACHE_DIR``: cache folder (default ``$XDG_CACHE_HOME/imse_keras``,
    i.e. ``~/.cache/imse_keras``).
    ``IMSE_WEIGHTS_BASE_URL``: mirror serving ``<base>/<name>``.

This module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from imse_keras.atomic import atomic_path

__all__ = [
    "PretrainedCheckpoint",
    "PRETRAINED",
    "ALIASES",
    "DEFAULT_CHECKPOINT",
    "DownloadError",
    "ChecksumError",
    "WeightsNotFoundError",
    "get_checkpoint",
    "cache_dir",
    "sha256_file",
    "download",
    "resolve_checkpoint",
]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class PretrainedCheckpoint:
    """One published checkpoint, pinned to a commit and a SHA-256.

    Attributes:
        name: file name, also the registry key and the cache file name.
        repo: GitHub ``owner/name``.
        commit: the commit the file is fetched at (never a branch).
        path: the file's path inside the repository.
        sha256: hex digest of the file.
        size: file size in bytes.
        pesq: PESQ-WB on VoiceBank+DEMAND reported with the checkpoint.
        license: licence of the weights.
    """

    name: str
    repo: str
    commit: str
    path: str
    sha256: str
    size: int
    pesq: float
    license: str

    @property
    def url(self) -> str:
        """The pinned raw-file URL on GitHub."""
        return f"https://github.com/{self.repo}/raw/{self.commit}/{self.path}"

    def mirror_url(self, base_url: str) -> str:
        """``<base_url>/<name>``: where a mirror serves this file."""
        return f"{base_url.rstrip('/')}/{self.name}"


_LICENSE = "MIT, (c) 2025 Xinxin Tang"

PRETRAINED: dict[str, PretrainedCheckpoint] = {
    c.name: c
    for c in (
        PretrainedCheckpoint(
            name="g_best_pesq_3.399",
            repo="XinXinTang123/IMSE",
            commit="1b0e01dc054a49500cc81f2fc3eecf64467eb73e",
            path="paper_result/g_best_pesq_3.399",
            sha256="c8e21c89fba61c2ac168ad5a9d50a3861ae2640bab3036eacbeb023d00dc07a1",
            size=1_973_686,
            pesq=3.399,
            license=_LICENSE,
        ),
        PretrainedCheckpoint(
            name="g_best_pesq_3.373",
            repo="XinXinTang123/IMSE",
            commit="f7bd3874764b04e446c4157e0ff7a87e8a5d2c8e",
            path="paper_result/g_best_pesq_3.373",
            sha256="575de13bd5ee1451d52c99f01ee954c5275b86d48439c71807737e82760988d7",
            size=1_973_686,
            pesq=3.373,
            license=_LICENSE,
        ),
    )
}

DEFAULT_CHECKPOINT = "g_best_pesq_3.399"

#: Short names accepted wherever a checkpoint name is.
ALIASES: dict[str, str] = {
    "imse": "g_best_pesq_3.399",
    "3.399": "g_best_pesq_3.399",
    "3.373": "g_best_pesq_3.373",
}

_HINT = "download it yourself and pass --weights PATH or set IMSE_WEIGHTS=PATH"


class DownloadError(RuntimeError):
    """A download failed, was cut short, or did not match its checksum."""


class ChecksumError(ValueError):
    """A local file did not match the SHA-256 of the checkpoint it claims to be."""


class WeightsNotFoundError(FileNotFoundError):
    """No checkpoint file was found and none could (or may) be downloaded."""


def _canonical_name(name: str) -> str | None:
    name = ALIASES.get(name, name)
    return name if name in PRETRAINED else None


def get_checkpoint(name: str = DEFAULT_CHECKPOINT) -> PretrainedCheckpoint:
    """The registry entry for a checkpoint name or alias (``imse``, ``3.399``, ``3.373``).

    Raises:
        KeyError: unknown name; the message lists the valid ones.
    """
    canonical = _canonical_name(name)
    if canonical is None:
        valid = sorted(PRETRAINED) + sorted(ALIASES)
        raise KeyError(
            f"unknown pretrained checkpoint {name!r}; valid names: {', '.join(valid)}"
        )
    return PRETRAINED[canonical]


def cache_dir() -> Path:
    """Where downloads are kept: ``$IMSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/imse_keras``,
    else ``~/.cache/imse_keras``. Not created here."""
    env = os.environ.get("IMSE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "imse_keras"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _user_agent() -> str:
    try:
        from imse_keras import __version__
    except ImportError:  # pragma: no cover - partial installs
        __version__ = "unknown"
    return f"imse-keras/{__version__}"


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str,
    expected_size: int | None = None,
    progress: bool = True,
    timeout: float = 60,
) -> Path:
    """Download ``url`` to ``dest``, verified, atomically.

    The body is streamed into a temporary file beside ``dest`` and hashed as it
    is written; only a file of the expected size (when given, and the
    server's ``Content-Length``) and SHA-256 is moved onto ``dest`` with
    ``os.replace``. On any failure the temporary file is deleted and ``dest``
    is left as it was.

    Args:
        url: http(s) URL; redirects are followed, proxies come from the
            usual ``*_proxy`` environment variables.
        dest: final file path; its folder is created if needed.
        sha256: expected hex digest.
        expected_size: expected size in bytes, or ``None`` to skip that check.
        progress: show a tqdm bar (only when stderr is a terminal).
        timeout: socket timeout in seconds.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        DownloadError: HTTP error, no network, a cut-short body, or a size or
            checksum mismatch; the message names the URL and what to do.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    expected = sha256.lower()
    with atomic_path(dest, suffix=".part") as tmp:
        request = urllib.request.Request(url, headers={"User-Agent": _user_agent()})
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as err:
            err.close()
            raise DownloadError(
                f"could not download {url}: HTTP {err.code} {err.reason}; {_HINT}"
            ) from err
        except urllib.error.URLError as err:
            raise DownloadError(
                f"could not reach {url} (no network?): {err.reason}; {_HINT}"
            ) from err
        except (OSError, http.client.HTTPException) as err:
            raise DownloadError(f"could not download {url} ({err!r}); {_HINT}") from err
        h = hashlib.sha256()
        received = 0
        with response, open(tmp, "wb") as out:
            header = response.headers.get("Content-Length")
            content_length = int(header) if header and header.isdigit() else None
            from tqdm import tqdm

            bar = tqdm(
                total=expected_size or content_length,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not progress or not sys.stderr.isatty(),
                leave=False,
            )
            with bar:
                try:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        h.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                except (OSError, EOFError, http.client.HTTPException) as err:
                    # socket timeouts, resets, http.client.IncompleteRead
                    raise DownloadError(
                        f"download of {url} failed after {received} bytes ({err}); {_HINT}"
                    ) from err
        if content_length is not None and received != content_length:
            raise DownloadError(
                f"download of {url} was cut short: got {received} of {content_length} "
                f"bytes; try again, or {_HINT}"
            )
        if expected_size is not None and received != expected_size:
            raise DownloadError(
                f"download of {url} has {received} bytes, expected {expected_size}; "
                f"the server sent a different file; {_HINT}"
            )
        actual = h.hexdigest()
        if actual != expected:
            raise DownloadError(
                f"checksum mismatch for {url}: expected SHA-256 {expected}, got {actual}; "
                f"the file was not saved; {_HINT}"
            )
    return dest


def _instructions(ckpt: PretrainedCheckpoint, target: Path) -> str:
    return (
        f"Download {ckpt.url} (SHA-256 {ckpt.sha256}, {ckpt.size} bytes) and pass "
        f"--weights PATH, set IMSE_WEIGHTS to the file or the folder holding it, "
        f"or put it at {target}. A mirror can be set with IMSE_WEIGHTS_BASE_URL "
        f"(serving <base>/{ckpt.name})."
    )


def _verify_local(path: Path, ckpt: PretrainedCheckpoint) -> None:
    actual = sha256_file(path)
    if actual != ckpt.sha256:
        raise ChecksumError(
            f"{path} is not the official {ckpt.name}: expected SHA-256 {ckpt.sha256}, "
            f"got {actual}. Delete it or pass verify=False for a checkpoint of your own."
        )


def _looks_like_path(name: str) -> bool:
    """A --weights value meant as a file: a folder part, ``~`` or a file suffix."""
    p = Path(name)
    return os.sep in name or "/" in name or name.startswith("~") or bool(p.suffix)


def _cache_copy(source: Path, ckpt: PretrainedCheckpoint) -> None:
    """Keep a verified copy of an official checkpoint found outside the cache.

    ``make demo`` finds the weights through ``IMSE_WEIGHTS`` (``../shared``); a
    later ``imse enhance`` in another shell has no such variable and looks in
    the cache, so the file is copied there (atomically, only when its SHA-256
    is the official one). A failure costs only a download later.
    """
    from imse_keras.atomic import write_bytes_atomic

    cached = cache_dir() / ckpt.name
    try:
        if cached.is_file() and sha256_file(cached) == ckpt.sha256:
            return
        data = source.read_bytes()
        if hashlib.sha256(data).hexdigest() != ckpt.sha256:
            return  # someone's own file under the official name: not cached
        write_bytes_atomic(cached, data)
    except OSError:
        pass


def resolve_checkpoint(
    name_or_path: str | os.PathLike | None = None,
    *,
    local_path: str | os.PathLike | None = None,
    allow_download: bool = True,
    verify: bool = False,
    base_url: str | None = None,
    progress: bool = True,
) -> Path:
    """Find a PyTorch IMSE checkpoint file, downloading it if needed.

    Args:
        name_or_path: a registry name or alias (default ``g_best_pesq_3.399``),
            or the path of an existing checkpoint file (used as is).
        local_path: an explicit file to use (e.g. ``--weights PATH``); it must
            exist. Any torch checkpoint is accepted, fine-tuned ones included.
        allow_download: if ``False``, never touch the network; raise
            :class:`WeightsNotFoundError` with instructions instead.
        verify: check the SHA-256 of a file given through ``local_path``,
            ``name_or_path`` or ``IMSE_WEIGHTS`` when it is a registry
            checkpoint (named so, or by its file name); a mismatch raises
            :class:`ChecksumError`. Off by default so one's own checkpoints
            load. Cached and downloaded files are always verified.
        base_url: mirror serving ``<base_url>/<name>``; default
            ``$IMSE_WEIGHTS_BASE_URL``, else the pinned GitHub URL.
        progress: show a download progress bar on a terminal.

    Returns:
        Path of the checkpoint file.

    Raises:
        WeightsNotFoundError: ``local_path``/``IMSE_WEIGHTS`` names nothing, or
            nothing was found and downloading is off.
        KeyError: ``name_or_path`` is neither a registry name nor a file.
        DownloadError: the download failed or did not verify.
        ChecksumError: ``verify=True`` and a local file is not the official one.
    """
    name = DEFAULT_CHECKPOINT if name_or_path is None else os.fspath(name_or_path)
    canonical = _canonical_name(name)

    # 1. An explicit file.
    explicit: Path | None = None
    if local_path is not None:
        explicit = Path(local_path).expanduser()
        if not explicit.is_file():
            raise WeightsNotFoundError(f"checkpoint file not found: {explicit}")
    elif canonical is None:
        candidate = Path(name).expanduser()
        if candidate.is_file():
            explicit = candidate
        elif _looks_like_path(name):
            valid = ", ".join(sorted(PRETRAINED) + sorted(ALIASES))
            raise WeightsNotFoundError(
                f"{name}: no such file (nor an official checkpoint; valid names: {valid})"
            )
        else:
            get_checkpoint(name)  # raises KeyError listing the valid names
    if explicit is not None:
        entry = canonical or _canonical_name(explicit.name)
        if verify and entry is not None:
            _verify_local(explicit, PRETRAINED[entry])
        return explicit

    ckpt = PRETRAINED[canonical]

    # 2. $IMSE_WEIGHTS: a file, or a folder holding <name>.
    env = os.environ.get("IMSE_WEIGHTS")
    if env:
        env_path = Path(env).expanduser()
        if env_path.is_file():
            if verify and _canonical_name(env_path.name) is not None:
                _verify_local(env_path, PRETRAINED[_canonical_name(env_path.name)])
            return env_path
        if not env_path.is_dir():
            raise WeightsNotFoundError(
                f"IMSE_WEIGHTS={env} is neither a file nor a folder; "
                "point it at a checkpoint file or the folder holding it"
            )
        in_dir = env_path / ckpt.name
        if in_dir.is_file():
            if verify:
                _verify_local(in_dir, ckpt)
            _cache_copy(in_dir, ckpt)
            return in_dir

    # 3. The cache, if intact.
    cached = cache_dir() / ckpt.name
    stale = False
    if cached.is_file():
        if sha256_file(cached) == ckpt.sha256:
            return cached
        stale = True

    # 4. Download.
    if not allow_download:
        problem = (
            f"the cached {cached} does not match its SHA-256"
            if stale
            else f"checkpoint {ckpt.name} not found locally"
        )
        raise WeightsNotFoundError(
            f"{problem} and downloading is off. {_instructions(ckpt, cached)}"
        )
    if stale:
        warnings.warn(
            f"cached {cached} does not match its SHA-256; downloading it again",
            RuntimeWarning,
            stacklevel=2,
        )
    base = base_url if base_url is not None else os.environ.get("IMSE_WEIGHTS_BASE_URL")
    url = ckpt.mirror_url(base) if base else ckpt.url
    return download(url, cached, ckpt.sha256, expected_size=ckpt.size, progress=progress)
