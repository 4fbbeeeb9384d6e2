"""Shared fixtures. ``shared_dir`` is the one place that finds ``../shared``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from imse_keras.runtime import configure_tensorflow  # noqa: E402

configure_tensorflow()

REPO_ROOT = Path(__file__).resolve().parents[1]

# --- CPU time per test (IMSE_TEST_CPU=path): wall time lies on a shared machine ----

_cpu_times: dict[str, float] = {}


def _cpu_now() -> float:
    import resource
    import time

    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = _cpu_now()
    yield
    _cpu_times[item.nodeid] = _cpu_now() - start


def pytest_sessionfinish(session, exitstatus):
    """Write ``seconds<TAB>test id`` (setup + call + teardown, this process and its
    children) to ``$IMSE_TEST_CPU``, slowest first, when it is set; under
    pytest-xdist each worker writes its own ``$IMSE_TEST_CPU.<worker id>``."""
    out = os.environ.get("IMSE_TEST_CPU")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if out and worker:
        out = f"{out}.{worker}"
    if out and _cpu_times:
        rows = sorted(_cpu_times.items(), key=lambda kv: -kv[1])
        Path(out).write_text("".join(f"{t:.2f}\t{k}\n" for k, t in rows))


def _find_shared() -> Path | None:
    env = os.environ.get("IMSE_SHARED_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared")
    for c in candidates:
        if (c / "SPEC.md").is_file():
            return c
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``../shared`` folder (official weights, parity files, audio).

    Tests that need it are skipped on a fresh clone without it.
    """
    d = _find_shared()
    if d is None:
        pytest.skip(
            "../shared (official weights, parity fixtures, VoiceBank audio) not found; "
            "set IMSE_SHARED_DIR to run this test"
        )
    return d


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Keep converted weights and downloads out of the user's ~/.cache."""
    if "IMSE_CACHE_DIR" not in os.environ:
        os.environ["IMSE_CACHE_DIR"] = str(tmp_path_factory.mktemp("imse_cache"))
    yield


@pytest.fixture(scope="session")
def official_checkpoint(shared_dir) -> Path:
    """Path of the official ``g_best_pesq_3.399`` PyTorch checkpoint in ../shared."""
    path = shared_dir / "official" / "g_best_pesq_3.399"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def official_model(official_checkpoint):
    """The Keras IMSE model with the official 3.399 weights (loaded once)."""
    from imse_keras.weights.load import load_pretrained

    return load_pretrained(official_checkpoint, use_cache=False)


@pytest.fixture(scope="session")
def tiny_model():
    """A ``tiny`` IMSE with seeded, non-trivial weights (fast; not trained).

    Seeded initialisers too: the quantized modes' output SNRs on this untrained
    model vary by several dB with its random init (tests/test_export.py)."""
    import keras
    import numpy as np

    from imse_keras.model import build_model

    keras.utils.set_random_seed(0)
    model = build_model("tiny")
    rng = np.random.default_rng(0)
    for v in model.weights:
        v.assign(v.numpy() + rng.normal(0, 0.05, v.shape).astype("float32"))
    return model


class LinearBackend:
    """A fixed, well-conditioned stand-in for the network (a ``SpectralBackend``).

    ``mag_out[b, t, f] = gain[f] * mag_c[b, t, f]`` and ``pha_out = pha``, all
    ``[B, T, F]`` float32. One multiplication per element: a segment's output is
    bit-identical whatever batch it travels in, and a 1-ulp change of the input
    moves the output by about 1 ulp (a random-weight model amplifies it ~100x and
    can flip a phase). So tests of batching, streaming and overlap compare exactly
    and test the front end, not the model's rounding.

    ``gain=None`` is the identity: the enhancer must then give back its input up to
    STFT rounding. ``calls`` records the batch size of every call.
    """

    def __init__(self, num_freqs: int, gain=None):
        import numpy as np

        if gain is None:
            gain = np.ones(num_freqs, np.float32)
        self.gain = np.asarray(gain, np.float32).reshape(1, num_freqs)
        self.calls: list[int] = []

    def __call__(self, mag_c, pha):
        assert mag_c.dtype == pha.dtype == "float32" and mag_c.shape == pha.shape
        assert mag_c.ndim == 3 and mag_c.shape[2] == self.gain.shape[1], mag_c.shape
        self.calls.append(mag_c.shape[0])
        return mag_c * self.gain, pha.copy()


@pytest.fixture
def linear_backend():
    """``make(gain=None, preset="tiny")`` -> a fresh :class:`LinearBackend`.

    The default gain falls linearly from 1 at DC to 0.5 at Nyquist: not the
    identity, so segment edges and overlaps show in the output.
    """
    import numpy as np

    from imse_keras.config import get_config

    def make(gain="ramp", preset: str = "tiny") -> LinearBackend:
        num_freqs = get_config(preset).num_freqs
        if isinstance(gain, str) and gain == "ramp":
            gain = np.linspace(1.0, 0.5, num_freqs, dtype=np.float32)
        return LinearBackend(num_freqs, gain)

    return make
