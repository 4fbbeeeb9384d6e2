"""Read PyTorch checkpoints without torch and without running code from the file.

``torch.save`` (torch >= 1.6) writes a zip archive::

    <prefix>/data.pkl        pickle (protocol 2) of the saved object
    <prefix>/data/<key>      raw bytes of each tensor storage
    <prefix>/byteorder       "little" or "big" (absent in old files: little)
    <prefix>/version         serialization format version

``data.pkl`` refers to storages through persistent ids
``('storage', storage_type, key, location, numel)`` and rebuilds tensors with
``torch._utils._rebuild_tensor_v2``. A stock unpickler would import and call
whatever the pickle names, so :class:`_RestrictedUnpickler` resolves globals
from an explicit allow-list and refuses everything else with
:class:`CheckpointError`. Tensors come back as C-contiguous, native-endian
numpy arrays that own their memory; device tags such as ``'cuda:0'`` are
ignored.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CheckpointError", "load_torch_state_dict", "load_torch_checkpoint"]


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, unsupported or unsafe to load."""


# Storage class name (as written by torch.save) -> numpy dtype of one element.
_STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    # bfloat16 is read as its raw 16 bits, then widened exactly to float32.
    "BFloat16Storage": np.dtype("<u2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
    "ComplexDoubleStorage": np.dtype("<c16"),
    "ComplexFloatStorage": np.dtype("<c8"),
    # Untyped storages count bytes; torch.load reads them as uint8 too.
    "UntypedStorage": np.dtype("u1"),
}


class _StorageType:
    """Stand-in for a ``torch.<X>Storage`` class named in a persistent id."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype: np.dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _Storage:
    """One storage record: a flat, owning, native-endian numpy array."""

    __slots__ = ("key", "array")

    def __init__(self, key: str, array: np.ndarray):
        self.key = key
        self.array = array


def _check_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CheckpointError(f"malformed tensor record: {what} must be an int, got {value!r}")
    return value


def _check_int_tuple(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)):
        raise CheckpointError(f"malformed tensor record: {what} must be a tuple, got {value!r}")
    return tuple(_check_int(v, what) for v in value)


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> np.ndarray:
    if not isinstance(storage, _Storage):
        raise CheckpointError(
            f"malformed tensor record: expected a storage, got {type(storage).__name__}"
        )
    offset = _check_int(storage_offset, "storage_offset")
    shape = _check_int_tuple(size, "size")
    strides = _check_int_tuple(stride, "stride")
    if len(shape) != len(strides):
        raise CheckpointError(
            f"malformed tensor record on storage data/{storage.key}: "
            f"size {shape} and stride {strides} differ in rank"
        )
    if offset < 0 or any(s < 0 for s in shape) or any(s < 0 for s in strides):
        raise CheckpointError(
            f"malformed tensor record on storage data/{storage.key}: negative offset, "
            f"size or stride (offset={offset}, size={shape}, stride={strides})"
        )
    flat = storage.array
    if 0 in shape:
        return np.zeros(shape, dtype=flat.dtype)
    # Elements the view reaches: its last one sits at offset + sum((n-1)*stride).
    needed = offset + 1 + sum((n - 1) * s for n, s in zip(shape, strides))
    if needed > flat.size:
        raise CheckpointError(
            f"storage record data/{storage.key} holds {flat.size} elements but a tensor of "
            f"size {shape}, stride {strides}, offset {offset} needs {needed}; "
            "the checkpoint is truncated or corrupt"
        )
    item = flat.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=shape, strides=tuple(s * item for s in strides), writeable=False
    )
    # np.array, not ascontiguousarray, which would turn a 0-d tensor into shape (1,).
    return np.array(view, order="C", copy=True)


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any = False,
    backward_hooks: Any = None,
    metadata: Any = None,
) -> np.ndarray:
    # requires_grad, hooks and metadata only matter to autograd; they are dropped.
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data: Any, requires_grad: Any = False, backward_hooks: Any = None,
                       state: Any = None) -> np.ndarray:
    if not isinstance(data, np.ndarray):
        raise CheckpointError(
            f"malformed parameter record: expected a tensor, got {type(data).__name__}"
        )
    return data


def _ordered_dict(*args: Any) -> collections.OrderedDict:
    # Only the no-argument and single-iterable forms appear in torch pickles;
    # keyword arguments cannot be passed through REDUCE.
    return collections.OrderedDict(*args)


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}
for _name, _dtype in _STORAGE_DTYPES.items():
    _ALLOWED_GLOBALS[("torch", _name)] = _StorageType(_name, _dtype)
_ALLOWED_GLOBALS[("torch.storage", "UntypedStorage")] = _ALLOWED_GLOBALS[
    ("torch", "UntypedStorage")
]


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only allow-listed globals; storages come from the open zip."""

    def __init__(self, file, archive: zipfile.ZipFile, prefix: str, big_endian: bool,
                 source: str):
        super().__init__(file, encoding="utf-8")
        self._archive = archive
        self._prefix = prefix
        self._big_endian = big_endian
        self._source = source
        self._storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise CheckpointError(
                f"{self._source}: imse_keras refuses to load global {module}.{name} "
                "from the checkpoint's pickle (only tensors, storages and OrderedDict "
                "are allowed; the file may be unsafe or not a plain state dict)"
            ) from None

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise CheckpointError(f"{self._source}: unsupported persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise CheckpointError(f"{self._source}: unsupported storage type {storage_type!r}")
        key = str(key)
        numel = _check_int(numel, "storage numel")
        cached = self._storages.get(key)
        if cached is not None:
            return cached
        record = f"{self._prefix}data/{key}"
        try:
            raw = self._archive.read(record)
        except KeyError:
            raise CheckpointError(
                f"{self._source}: storage record {record} is missing from the archive"
            ) from None
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise CheckpointError(
                f"{self._source}: storage record {record} is corrupt ({err})"
            ) from err
        dtype = storage_type.dtype
        if self._big_endian:
            dtype = dtype.newbyteorder(">")
        nbytes = numel * dtype.itemsize
        if len(raw) < nbytes:
            raise CheckpointError(
                f"{self._source}: storage record {record} has {len(raw)} bytes but its "
                f"{numel} elements of {storage_type!r} need {nbytes}; the checkpoint is "
                "truncated or corrupt"
            )
        array = np.frombuffer(raw, dtype=dtype, count=numel).astype(dtype.newbyteorder("="))
        if storage_type.name == "BFloat16Storage":
            # bfloat16 is the top half of a float32, so widening is exact.
            array = (array.astype(np.uint32) << 16).view(np.float32)
        storage = _Storage(key, array)
        self._storages[key] = storage
        return storage


def _find_data_pkl(archive: zipfile.ZipFile, source: str) -> str:
    names = [n for n in archive.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
    if not names:
        raise CheckpointError(
            f"{source}: zip archive has no data.pkl; it is not a PyTorch checkpoint"
        )
    # torch writes exactly one; prefer the shallowest if a file has several.
    return min(names, key=lambda n: n.count("/"))


def _describe_not_zip(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):
        return "truncated or corrupt zip archive (no central directory)"
    if head[:1] == b"\x80":
        return (
            "not a PyTorch zip checkpoint (legacy torch.save format from torch < 1.6; "
            "re-save it with a newer torch)"
        )
    return "not a PyTorch zip checkpoint (legacy torch.save or corrupt file)"


def load_torch_checkpoint(path: str | os.PathLike) -> Any:
    """Unpickle a whole ``torch.save`` zip checkpoint into numpy objects.

    Tensors become numpy arrays (see :func:`load_torch_state_dict`), dicts stay
    dicts. No torch import, no code from the file is run.

    Raises:
        CheckpointError: the file is missing, not a zip checkpoint, truncated,
            corrupt, or references a global outside the allow-list.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {source}")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{source}: {_describe_not_zip(path)}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(f"{source}: truncated or corrupt zip archive ({err})") from err
    with archive:
        pkl_name = _find_data_pkl(archive, source)
        prefix = pkl_name[: -len("data.pkl")]
        try:
            pkl = archive.read(pkl_name)
            names = set(archive.namelist())
            byteorder = (
                archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
                if prefix + "byteorder" in names
                else "little"
            )
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise CheckpointError(f"{source}: corrupt zip archive ({err})") from err
        if byteorder not in ("little", "big"):
            raise CheckpointError(f"{source}: unknown byteorder {byteorder!r}")
        unpickler = _RestrictedUnpickler(
            io.BytesIO(pkl), archive, prefix, byteorder == "big", source
        )
        try:
            return unpickler.load()
        except CheckpointError:
            raise
        except Exception as err:  # any malformed pickle: UnpicklingError, TypeError, ...
            raise CheckpointError(
                f"{source}: corrupt data.pkl ({type(err).__name__}: {err})"
            ) from err


def _as_state_dict(obj: Any, where: str, source: str) -> dict[str, np.ndarray]:
    if not isinstance(obj, dict):
        raise CheckpointError(f"{source}: {where} is a {type(obj).__name__}, not a state dict")
    bad = [k for k, v in obj.items() if not (isinstance(k, str) and isinstance(v, np.ndarray))]
    if bad:
        shown = ", ".join(repr(k) for k in bad[:8])
        raise CheckpointError(
            f"{source}: {where} is not a state dict; entries that are not tensors: {shown}"
            + (" ..." if len(bad) > 8 else "")
        )
    return dict(obj)


def load_torch_state_dict(
    path: str | os.PathLike, key: str | None = "generator"
) -> dict[str, np.ndarray]:
    """Load a state dict from a PyTorch zip checkpoint, without torch.

    Args:
        path: a file written by ``torch.save`` (torch >= 1.6 zip format).
        key: the top-level entry holding the state dict (the official IMSE
            checkpoints are ``{"generator": state_dict}``). ``None`` means the
            top-level object is itself the state dict.

    Returns:
        ``{name: array}`` in file order. Arrays are C-contiguous, native-endian
        and own their memory; dtypes follow the storages (float32 for IMSE;
        bfloat16 is widened exactly to float32). Device tags are ignored.

    Raises:
        CheckpointError: missing file, not a zip checkpoint, truncated or
            corrupt data, a storage too short for its tensor, a forbidden
            global in the pickle, or ``key`` absent (the message lists the
            keys present).
    """
    source = str(path)
    obj = load_torch_checkpoint(path)
    if key is None:
        return _as_state_dict(obj, "the top-level object", source)
    if not isinstance(obj, dict):
        raise CheckpointError(
            f"{source}: top-level object is a {type(obj).__name__}, not a dict with {key!r}"
        )
    if key not in obj:
        available = ", ".join(repr(k) for k in obj.keys())
        raise CheckpointError(
            f"{source}: no {key!r} entry in the checkpoint; available keys: [{available}] "
            "(pass key=None if the file is a bare state dict)"
        )
    return _as_state_dict(obj[key], f"entry {key!r}", source)
