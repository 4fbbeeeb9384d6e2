"""Checkpoint registry, verified download and resolution, against a local HTTP server."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import os
import threading
from pathlib import Path

import pytest

from imse_keras.weights import pretrained
from imse_keras.weights.pretrained import (
    DEFAULT_CHECKPOINT,
    PRETRAINED,
    ChecksumError,
    DownloadError,
    PretrainedCheckpoint,
    WeightsNotFoundError,
    cache_dir,
    download,
    get_checkpoint,
    resolve_checkpoint,
    sha256_file,
)

FAKE = "g_fake_test"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files from a folder; ``/cut/<file>`` promises the whole file, sends half."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/cut/"):
            body = (Path(self.directory) / self.path[len("/cut/"):]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    for var in ("IMSE_WEIGHTS", "IMSE_WEIGHTS_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("IMSE_CACHE_DIR", str(tmp_path / "cache"))
    # urllib honours *_proxy; the test server is local.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def server(tmp_path):
    """(base_url, folder): an HTTP server on 127.0.0.1 serving ``folder``."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(_Handler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def payload():
    data = os.urandom(200_000)
    return data, hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake_entry(monkeypatch, payload):
    """A registry entry for ``payload``, so resolution is testable without ../shared."""
    data, digest = payload
    entry = dataclasses.replace(
        PRETRAINED[DEFAULT_CHECKPOINT], name=FAKE, path=f"x/{FAKE}", sha256=digest, size=len(data)
    )
    monkeypatch.setitem(PRETRAINED, FAKE, entry)
    return entry


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- Registry --------------------------------------------------------------------------


def test_registry_entries_and_urls():
    assert DEFAULT_CHECKPOINT in PRETRAINED and len(PRETRAINED) == 2
    a, b = PRETRAINED["g_best_pesq_3.399"], PRETRAINED["g_best_pesq_3.373"]
    assert a.url == (
        "https://github.com/XinXinTang123/IMSE/raw/"
        "1b0e01dc054a49500cc81f2fc3eecf64467eb73e/paper_result/g_best_pesq_3.399"
    )
    assert b.url == (
        "https://github.com/XinXinTang123/IMSE/raw/"
        "f7bd3874764b04e446c4157e0ff7a87e8a5d2c8e/paper_result/g_best_pesq_3.373"
    )
    assert (a.pesq, b.pesq) == (3.399, 3.373)
    for entry in (a, b):
        assert entry.size == 1_973_686 and len(entry.sha256) == 64
        assert entry.license == "MIT, (c) 2025 Xinxin Tang"
        assert entry.mirror_url("http://mirror/w/") == f"http://mirror/w/{entry.name}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.sha256 = "0" * 64  # type: ignore[misc]


def test_registry_sha256_matches_shared_sums(shared_dir):
    sums = {}
    for line in (shared_dir / "official" / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    assert {name: e.sha256 for name, e in PRETRAINED.items()} == sums
    for name, entry in PRETRAINED.items():
        path = shared_dir / "official" / name
        assert path.stat().st_size == entry.size
        assert sha256_file(path) == entry.sha256


def test_aliases_and_unknown_names():
    assert get_checkpoint().name == "g_best_pesq_3.399"
    assert get_checkpoint("imse").name == "g_best_pesq_3.399"
    assert get_checkpoint("3.399").name == "g_best_pesq_3.399"
    assert get_checkpoint("3.373").name == "g_best_pesq_3.373"
    with pytest.raises(KeyError, match="g_best_pesq_3.373.*g_best_pesq_3.399"):
        get_checkpoint("3.5")


def test_cache_dir(monkeypatch, tmp_path):
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("IMSE_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == Path.home() / ".cache" / "imse_keras"


def test_module_has_no_tensorflow_import():
    source = Path(pretrained.__file__).read_text()
    assert "import tensorflow" not in source and "import keras" not in source


# --- download ----------------------------------------------------------------------------


def test_download_ok(server, payload, tmp_path):
    base, folder = server
    data, digest = payload
    (folder / "w.bin").write_bytes(data)
    dest = tmp_path / "out" / "w.bin"
    assert download(f"{base}/w.bin", dest, digest, expected_size=len(data), progress=False) == dest
    assert dest.read_bytes() == data
    assert _leftovers(dest.parent) == ["w.bin"]


def test_download_checksum_mismatch_leaves_nothing(server, payload, tmp_path):
    base, folder = server
    data, digest = payload
    (folder / "w.bin").write_bytes(data)
    dest = tmp_path / "out" / "w.bin"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as info:
        download(f"{base}/w.bin", dest, wrong, progress=False)
    message = str(info.value)
    assert f"{base}/w.bin" in message and wrong in message and digest in message
    assert "IMSE_WEIGHTS" in message
    assert _leftovers(dest.parent) == []


def test_download_keeps_existing_dest_on_failure(server, payload, tmp_path):
    base, folder = server
    data, _ = payload
    (folder / "w.bin").write_bytes(data)
    dest = tmp_path / "out" / "w.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    with pytest.raises(DownloadError):
        download(f"{base}/w.bin", dest, "0" * 64, progress=False)
    assert dest.read_bytes() == b"old"
    assert _leftovers(dest.parent) == ["w.bin"]


def test_download_truncated_body(server, payload, tmp_path):
    base, folder = server
    data, digest = payload
    (folder / "w.bin").write_bytes(data)
    dest = tmp_path / "out" / "w.bin"
    with pytest.raises(DownloadError, match="cut short|failed after"):
        download(f"{base}/cut/w.bin", dest, digest, progress=False)
    assert _leftovers(dest.parent) == []


def test_download_truncated_file_fails_checksum(server, payload, tmp_path):
    base, folder = server
    data, digest = payload
    (folder / "w.bin").write_bytes(data[:1000])
    dest = tmp_path / "out" / "w.bin"
    with pytest.raises(DownloadError, match="1000 bytes, expected 200000"):
        download(f"{base}/w.bin", dest, digest, expected_size=len(data), progress=False)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download(f"{base}/w.bin", dest, digest, progress=False)
    assert _leftovers(dest.parent) == []


def test_download_404(server, tmp_path):
    base, _ = server
    dest = tmp_path / "out" / "w.bin"
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{base}/missing.bin", dest, "0" * 64, progress=False)
    assert _leftovers(dest.parent) == []


def test_download_unreachable(tmp_path):
    # Port 9 on localhost (discard) is closed on test machines: connection refused.
    dest = tmp_path / "out" / "w.bin"
    with pytest.raises(DownloadError, match="no network"):
        download("http://127.0.0.1:9/w.bin", dest, "0" * 64, progress=False, timeout=5)
    assert _leftovers(dest.parent) == []


# --- resolve_checkpoint ----------------------------------------------------------------


def test_resolve_local_path_and_existing_file(tmp_path):
    mine = tmp_path / "finetuned.pt"
    mine.write_bytes(b"anything")
    assert resolve_checkpoint(local_path=mine, allow_download=False) == mine
    assert resolve_checkpoint(str(mine), allow_download=False) == mine
    with pytest.raises(WeightsNotFoundError, match="not found"):
        resolve_checkpoint(local_path=tmp_path / "absent.pt")
    with pytest.raises(WeightsNotFoundError, match="absent.pt: no such file.*valid names"):
        resolve_checkpoint(str(tmp_path / "absent.pt"))


def test_resolve_local_path_verify(tmp_path, fake_entry, payload):
    wrong = tmp_path / FAKE
    wrong.write_bytes(b"not it")
    # Unverified: a file of one's own is accepted whatever its name.
    assert resolve_checkpoint(FAKE, local_path=wrong) == wrong
    with pytest.raises(ChecksumError, match=fake_entry.sha256):
        resolve_checkpoint(FAKE, local_path=wrong, verify=True)
    with pytest.raises(ChecksumError):
        resolve_checkpoint(local_path=wrong, verify=True)  # matched by file name
    right = tmp_path / "right"
    right.write_bytes(payload[0])
    assert resolve_checkpoint(FAKE, local_path=right, verify=True) == right


def test_resolve_env_dir_and_file(monkeypatch, tmp_path, fake_entry, payload):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / FAKE).write_bytes(payload[0])
    monkeypatch.setenv("IMSE_WEIGHTS", str(folder))
    assert resolve_checkpoint(FAKE, allow_download=False, verify=True) == folder / FAKE

    single = tmp_path / "my.pt"
    single.write_bytes(b"mine")
    monkeypatch.setenv("IMSE_WEIGHTS", str(single))
    assert resolve_checkpoint(FAKE, allow_download=False) == single

    monkeypatch.setenv("IMSE_WEIGHTS", str(tmp_path / "typo"))
    with pytest.raises(WeightsNotFoundError, match="IMSE_WEIGHTS"):
        resolve_checkpoint(FAKE, allow_download=False)


def test_resolve_env_dir_without_file_falls_back_to_cache(monkeypatch, tmp_path, fake_entry,
                                                          payload):
    monkeypatch.setenv("IMSE_WEIGHTS", str(tmp_path))
    cached = cache_dir() / FAKE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(payload[0])
    assert resolve_checkpoint(FAKE, allow_download=False) == cached


def test_resolve_cache_hit_without_network(fake_entry, payload):
    cached = cache_dir() / FAKE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(payload[0])
    assert resolve_checkpoint(FAKE, allow_download=False) == cached


def test_resolve_corrupt_cache_is_downloaded_again(monkeypatch, server, fake_entry, payload):
    base, folder = server
    data, _ = payload
    (folder / FAKE).write_bytes(data)
    cached = cache_dir() / FAKE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(data[:-1] + b"\x00")

    with pytest.raises(WeightsNotFoundError, match="does not match"):
        resolve_checkpoint(FAKE, allow_download=False)

    monkeypatch.setenv("IMSE_WEIGHTS_BASE_URL", base + "/")
    with pytest.warns(RuntimeWarning, match="downloading it again"):
        assert resolve_checkpoint(FAKE, progress=False) == cached
    assert cached.read_bytes() == data
    assert _leftovers(cached.parent) == [FAKE]


def test_resolve_downloads_into_cache_via_base_url(server, fake_entry, payload):
    base, folder = server
    (folder / FAKE).write_bytes(payload[0])
    path = resolve_checkpoint(FAKE, base_url=base, progress=False)
    assert path == cache_dir() / FAKE and path.read_bytes() == payload[0]


def test_resolve_nothing_found_gives_instructions(fake_entry):
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_checkpoint(FAKE, allow_download=False)
    message = str(info.value)
    assert fake_entry.url in message and fake_entry.sha256 in message
    assert "--weights" in message and "IMSE_WEIGHTS" in message
    assert str(cache_dir() / FAKE) in message
    assert isinstance(info.value, FileNotFoundError)


def test_resolve_official_from_mirror(server, shared_dir):
    base, folder = server
    name = "g_best_pesq_3.373"
    (folder / name).write_bytes((shared_dir / "official" / name).read_bytes())
    path = resolve_checkpoint("3.373", base_url=base, progress=False)
    assert path == cache_dir() / name
    assert sha256_file(path) == PRETRAINED[name].sha256
    # Second call: a verified cache hit, no server needed.
    assert resolve_checkpoint("3.373", allow_download=False) == path


def test_resolve_official_from_shared_dir(monkeypatch, shared_dir):
    monkeypatch.setenv("IMSE_WEIGHTS", str(shared_dir / "official"))
    for alias, name in (("imse", "g_best_pesq_3.399"), ("3.373", "g_best_pesq_3.373")):
        path = resolve_checkpoint(alias, allow_download=False, verify=True)
        assert path == shared_dir / "official" / name
    assert resolve_checkpoint(allow_download=False).name == DEFAULT_CHECKPOINT


def test_fake_entry_is_a_checkpoint(fake_entry):
    assert isinstance(fake_entry, PretrainedCheckpoint) and get_checkpoint(FAKE) is fake_entry
