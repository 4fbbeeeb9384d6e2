"""The torch-free checkpoint reader: official files, hand-made files, hostile files."""

from __future__ import annotations

import collections
import contextlib
import io
import os
import pickle
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from imse_keras.weights.torch_checkpoint import CheckpointError, load_torch_state_dict

OFFICIAL = ("g_best_pesq_3.399", "g_best_pesq_3.373")
N_ENTRIES = 507
N_PARAMS = 432_995
N_ROPE = 28


# --- A minimal torch.save writer, without torch ----------------------------------------


class _Storage:
    """A storage to write: ``data/<key>`` holds ``data`` (a flat array) as raw bytes."""

    def __init__(self, key: str, data: np.ndarray, type_name: str = "FloatStorage"):
        self.key = key
        self.data = np.ascontiguousarray(data).reshape(-1)
        self.type_name = type_name


class _Tensor:
    """Pickles like a torch tensor: ``_rebuild_tensor_v2(storage, offset, size, stride, ...)``."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce_ex__(self, protocol):
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        return (
            rebuild,
            (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()),
        )


_TYPE_NAMES = {
    np.dtype(np.float32): "FloatStorage",
    np.dtype(np.float64): "DoubleStorage",
    np.dtype(np.float16): "HalfStorage",
    np.dtype(np.int64): "LongStorage",
    np.dtype(np.int32): "IntStorage",
    np.dtype(np.bool_): "BoolStorage",
}


def _tensor(array: np.ndarray, key: str) -> _Tensor:
    """A contiguous tensor over its own storage, typed after ``array.dtype``."""
    array = np.asarray(array)
    stride = tuple(s // array.itemsize for s in np.ascontiguousarray(array).strides)
    if array.ndim == 0:
        stride = ()
    storage = _Storage(key, array, _TYPE_NAMES[array.dtype])
    return _Tensor(storage, 0, array.shape, stride)


@contextlib.contextmanager
def _fake_torch():
    """Fake ``torch``/``torch._utils`` modules so pickle emits torch's GLOBAL opcodes.

    The fakes never reach the loader: it resolves those names from its own allow-list.
    """
    assert "torch" not in sys.modules, "these tests must run without torch imported"
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # pragma: no cover - never called
        raise AssertionError("the fake rebuild must not run")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for name in ("FloatStorage", "DoubleStorage", "HalfStorage", "LongStorage", "IntStorage",
                 "BoolStorage", "BFloat16Storage"):
        setattr(torch, name, type(name, (), {"__module__": "torch", "__qualname__": name}))
    torch._utils = utils
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    try:
        yield torch
    finally:
        del sys.modules["torch"], sys.modules["torch._utils"]


def write_checkpoint(path: Path, obj, prefix: str = "archive", byteorder: str = "little",
                     skip_records: tuple[str, ...] = ()) -> Path:
    """Write ``obj`` (dicts of :class:`_Tensor`) the way ``torch.save`` does."""
    storages: dict[str, _Storage] = {}
    with _fake_torch() as torch:

        class _Pickler(pickle.Pickler):
            def persistent_id(self, o):
                if isinstance(o, _Storage):
                    storages[o.key] = o
                    return ("storage", getattr(torch, o.type_name), o.key, "cuda:0", o.data.size)
                return None

        buf = io.BytesIO()
        _Pickler(buf, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", buf.getvalue())
        z.writestr(f"{prefix}/byteorder", byteorder)
        for key, s in storages.items():
            if key in skip_records:
                continue
            order = ">" if byteorder == "big" else "<"
            raw = s.data.astype(s.data.dtype.newbyteorder(order)).tobytes()
            z.writestr(f"{prefix}/data/{key}", raw)
        z.writestr(f"{prefix}/version", "3\n")
    return path


@pytest.fixture
def small_ckpt(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "conv.weight": rng.standard_normal((4, 2, 3, 1)).astype(np.float32),
        "conv.bias": rng.standard_normal(4).astype(np.float32),
        "steps": np.array(7, dtype=np.int64),
    }
    sd = collections.OrderedDict(
        (k, _tensor(v, str(i))) for i, (k, v) in enumerate(arrays.items())
    )
    path = write_checkpoint(tmp_path / "small.pt", {"generator": sd, "epoch": 3})
    return path, arrays


# --- Official checkpoints --------------------------------------------------------------


@pytest.mark.parametrize("name", OFFICIAL)
def test_official_checkpoint_structure(shared_dir, name):
    sd = load_torch_state_dict(shared_dir / "official" / name)
    expected = {}
    for line in (shared_dir / "parity" / "keys.txt").read_text().splitlines():
        key, shape = line.split("\t")
        if not key.startswith("io/"):
            expected[key] = tuple(int(d) for d in shape.strip("()").split(",") if d.strip())
    assert len(sd) == N_ENTRIES
    assert {k: v.shape for k, v in sd.items()} == expected
    rope = [k for k in sd if k.endswith("rope.angle")]
    assert len(rope) == N_ROPE and all(sd[k].shape == (4,) for k in rope)
    assert sum(v.size for k, v in sd.items() if not k.endswith("rope.angle")) == N_PARAMS
    for v in sd.values():
        assert v.dtype == np.float32 and v.flags.c_contiguous and v.flags.owndata


def test_official_3399_bit_exact_with_parity_npz(shared_dir):
    sd = load_torch_state_dict(shared_dir / "official" / "g_best_pesq_3.399")
    with np.load(shared_dir / "parity" / "imse_pretrained_3399.npz") as ref:
        assert set(sd) == {k for k in ref.files if not k.startswith("io/")}
        for key, value in sd.items():
            expected = ref[key]
            assert value.dtype == expected.dtype and value.shape == expected.shape, key
            assert value.tobytes() == expected.tobytes(), key


def test_official_checkpoints_differ(shared_dir):
    a = load_torch_state_dict(shared_dir / "official" / "g_best_pesq_3.399")
    b = load_torch_state_dict(shared_dir / "official" / "g_best_pesq_3.373")
    assert a.keys() == b.keys()
    assert any(not np.array_equal(a[k], b[k]) for k in a)


# --- Hand-made checkpoints -------------------------------------------------------------


def test_round_trip_values_shapes_and_order(small_ckpt):
    path, arrays = small_ckpt
    sd = load_torch_state_dict(path)
    assert list(sd) == list(arrays)
    for key, expected in arrays.items():
        assert sd[key].dtype == expected.dtype and sd[key].shape == expected.shape
        np.testing.assert_array_equal(sd[key], expected)
    assert sd["steps"].ndim == 0 and int(sd["steps"]) == 7


def test_transposed_strides_are_honoured(tmp_path):
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    storage = _Storage("0", base)
    # torch's x.t(): size (4, 3), stride (1, 4) over the same storage.
    sd = {"t": _Tensor(storage, 0, (4, 3), (1, 4))}
    out = load_torch_state_dict(write_checkpoint(tmp_path / "t.pt", {"generator": sd}))["t"]
    np.testing.assert_array_equal(out, base.T)
    assert out.flags.c_contiguous and out.flags.owndata


def test_storage_offset_and_shared_storage(tmp_path):
    flat = np.arange(10, dtype=np.float64)
    storage = _Storage("0", flat, "DoubleStorage")
    sd = {
        "head": _Tensor(storage, 0, (2, 2), (2, 1)),
        "tail": _Tensor(storage, 6, (2, 2), (2, 1)),
        "one": _Tensor(storage, 9, (), ()),
    }
    out = load_torch_state_dict(write_checkpoint(tmp_path / "o.pt", {"generator": sd}))
    np.testing.assert_array_equal(out["head"], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(out["tail"], [[6, 7], [8, 9]])
    assert out["one"].shape == () and out["one"] == 9
    out["head"][0, 0] = 100.0  # arrays own their data: no aliasing through the storage
    assert out["tail"][0, 0] == 6


def test_big_endian_and_other_dtypes(tmp_path):
    sd = {
        "f": _tensor(np.array([1.5, -2.0], dtype=np.float32), "0"),
        "i": _tensor(np.array([1, -3], dtype=np.int32), "1"),
        "b": _tensor(np.array([True, False]), "2"),
        "h": _tensor(np.array([0.5, 2.0], dtype=np.float16), "3"),
    }
    out = load_torch_state_dict(
        write_checkpoint(tmp_path / "be.pt", {"generator": sd}, byteorder="big")
    )
    np.testing.assert_array_equal(out["f"], [1.5, -2.0])
    np.testing.assert_array_equal(out["i"], [1, -3])
    np.testing.assert_array_equal(out["b"], [True, False])
    assert out["f"].dtype == np.float32 and out["f"].dtype.isnative
    np.testing.assert_array_equal(out["h"], [0.5, 2.0])
    assert out["i"].dtype == np.int32 and out["b"].dtype == np.bool_
    assert out["h"].dtype == np.float16


def test_bfloat16_is_widened_exactly(tmp_path):
    values = np.array([1.0, -0.5, 3.140625], dtype=np.float32)
    bits = (values.view(np.uint32) >> 16).astype(np.uint16)
    sd = {"w": _Tensor(_Storage("0", bits, "BFloat16Storage"), 0, (3,), (1,))}
    out = load_torch_state_dict(write_checkpoint(tmp_path / "bf.pt", {"generator": sd}))["w"]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, values)


def test_key_none_returns_bare_state_dict(tmp_path):
    sd = {"w": _tensor(np.ones(3, np.float32), "0")}
    out = load_torch_state_dict(write_checkpoint(tmp_path / "bare.pt", sd), key=None)
    assert list(out) == ["w"]


def test_key_none_rejects_wrapped_checkpoint(small_ckpt):
    with pytest.raises(CheckpointError, match="not a state dict"):
        load_torch_state_dict(small_ckpt[0], key=None)


def test_missing_key_lists_available(small_ckpt):
    with pytest.raises(CheckpointError, match=r"no 'model' entry.*'generator', 'epoch'"):
        load_torch_state_dict(small_ckpt[0], key="model")


# --- Hostile and broken files ----------------------------------------------------------


class _Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


@pytest.mark.parametrize("func", [os.system, eval], ids=["os.system", "builtins.eval"])
def test_forbidden_global_is_refused_and_never_called(tmp_path, func):
    marker = tmp_path / "pwned"
    arg = f"touch {marker}" if func is os.system else f"open({str(marker)!r}, 'w').close()"
    sd = {"w": _tensor(np.ones(2, np.float32), "0"), "x": _Evil(func, arg)}
    path = write_checkpoint(tmp_path / "evil.pt", {"generator": sd})
    # Protocol 2 writes builtins as __builtin__; os.system lives in posix (nt on Windows).
    refused = r"refuses to load global (posix|os|nt|builtins|__builtin__)\."
    with pytest.raises(CheckpointError, match=refused):
        load_torch_state_dict(path)
    assert not marker.exists()


def test_truncated_file(small_ckpt, tmp_path):
    data = small_ckpt[0].read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_torch_state_dict(cut)


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not a checkpoint\n")
    with pytest.raises(CheckpointError, match="not a PyTorch zip checkpoint"):
        load_torch_state_dict(path)


def test_legacy_pickle_file(tmp_path):
    path = tmp_path / "legacy.pt"
    path.write_bytes(pickle.dumps({"generator": {}}, protocol=2))
    with pytest.raises(CheckpointError, match="legacy torch.save"):
        load_torch_state_dict(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_torch_state_dict(tmp_path / "nope.pt")


def test_zip_without_data_pkl(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(CheckpointError, match="no data.pkl"):
        load_torch_state_dict(path)


def test_missing_storage_record(tmp_path):
    sd = {"w": _tensor(np.ones(3, np.float32), "0")}
    path = write_checkpoint(tmp_path / "m.pt", {"generator": sd}, skip_records=("0",))
    with pytest.raises(CheckpointError, match=r"archive/data/0 is missing"):
        load_torch_state_dict(path)


def test_storage_too_short_for_tensor(tmp_path):
    storage = _Storage("0", np.arange(4, dtype=np.float32))
    sd = {"w": _Tensor(storage, 2, (2, 2), (2, 1))}  # reaches element 5 of 4
    path = write_checkpoint(tmp_path / "short.pt", {"generator": sd})
    with pytest.raises(CheckpointError, match="holds 4 elements.*needs 6"):
        load_torch_state_dict(path)


def test_storage_record_shorter_than_numel(tmp_path):
    sd = {"w": _tensor(np.ones(8, np.float32), "0")}
    path = write_checkpoint(tmp_path / "ok.pt", {"generator": sd})
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["archive/data/0"] = members["archive/data/0"][:10]
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(bad, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    with pytest.raises(CheckpointError, match="has 10 bytes"):
        load_torch_state_dict(bad)


def test_crc_error_is_reported(tmp_path):
    payload = np.full(64, 0.25, dtype=np.float32)
    path = write_checkpoint(tmp_path / "crc.pt", {"generator": {"w": _tensor(payload, "0")}})
    data = bytearray(path.read_bytes())
    at = bytes(data).find(payload.tobytes())
    assert at > 0
    data[at + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="(?i)corrupt.*crc"):
        load_torch_state_dict(path)


def test_writer_leaves_no_fake_torch(small_ckpt):
    assert "torch" not in sys.modules and "torch._utils" not in sys.modules
