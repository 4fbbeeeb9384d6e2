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
    from imse_keras.weights.load import load_model

    return load_model(official_checkpoint, use_cache=False)


@pytest.fixture(scope="session")
def tiny_model():
    """A ``tiny`` IMSE with seeded, non-trivial weights (fast; not trained)."""
    import numpy as np

    from imse_keras.model import build_model

    model = build_model("tiny")
    rng = np.random.default_rng(0)
    for v in model.weights:
        v.assign(v.numpy() + rng.normal(0, 0.05, v.shape).astype("float32"))
    return model
