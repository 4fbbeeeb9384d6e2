"""End-to-end quality on 25 real VoiceBank+DEMAND test utterances (../shared).

The official PyTorch model scores PESQ-WB 3.439 / STOI 0.961 on these files with
its own segmentation (../shared/README.md). With the same segmentation
(``overlap="official"``) we must land within 0.01 of it; the default cross-faded
overlap must be at least as good (within the same 0.01).
"""

from __future__ import annotations

import numpy as np
import pytest

from imse_keras.enhance import Enhancer
from imse_keras.evaluation import evaluate_pairs, pair_files

REFERENCE_PESQ, REFERENCE_STOI = 3.439, 0.961


@pytest.mark.parametrize("overlap", ["official", "crossfade"])
def test_official_weights_on_vb_dev(shared_dir, official_model, overlap):
    vb = shared_dir / "audio" / "vb_dev"
    pairs = pair_files(vb / "clean", vb / "noisy")
    assert len(pairs) == 25
    enhancer = Enhancer.from_model(official_model, overlap=overlap)
    rows, mean = evaluate_pairs(pairs, enhancer.enhance_waveform)
    noisy_rows, noisy_mean = evaluate_pairs(pairs)
    assert mean["n_pesq"] == 25
    if overlap == "official":
        assert abs(mean["pesq"] - REFERENCE_PESQ) <= 0.01, mean
    else:
        assert mean["pesq"] >= REFERENCE_PESQ - 0.01, mean
    assert abs(mean["stoi"] - REFERENCE_STOI) <= 0.005, mean
    # Every file improves on its noisy input.
    gains = np.array([r["pesq"] - n["pesq"] for r, n in zip(rows, noisy_rows)])
    assert gains.min() > 0.3, gains
    assert abs(noisy_mean["pesq"] - 2.192) < 0.005
