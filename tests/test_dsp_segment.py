"""Segmentation for inference: the official plan, padding, seamless reassembly."""

from __future__ import annotations

import numpy as np
import pytest

from imse_keras.dsp.segment import MERGE_MODES, merge_segments, plan_segments, split_segments

S = 30700
LENGTHS = [1, 100, S - 1, S, S + 1, 2 * S, 2 * S + 7, 5 * S + 123, 3 * S - 1]


def _signal(n, seed=0):
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


@pytest.mark.parametrize("mode", MERGE_MODES)
@pytest.mark.parametrize("n", LENGTHS)
def test_identity_model_reassembles_exactly(n, mode):
    x = _signal(n, seed=n)
    plan = plan_segments(n, S)
    segments = split_segments(x, plan, S)
    assert segments.shape == (len(plan), S) and segments.dtype == np.float32
    y = merge_segments(segments, plan, n, mode=mode)
    assert y.shape == (n,) and y.dtype == np.float32
    np.testing.assert_array_equal(y, x)


def test_official_plan():
    assert plan_segments(1, S) == [(0, 1)]
    assert plan_segments(S - 1, S) == [(0, S - 1)]
    assert plan_segments(S, S) == [(0, S)]
    assert plan_segments(S + 1, S) == [(0, S), (1, S + 1)]
    assert plan_segments(2 * S, S) == [(0, S), (S, 2 * S)]
    n = 5 * S + 123
    plan = plan_segments(n, S)
    assert plan[:5] == [(i * S, (i + 1) * S) for i in range(5)]
    assert plan[5] == (n - S, n)


@pytest.mark.parametrize("n", LENGTHS)
def test_plan_covers_the_signal_with_full_segments(n):
    plan = plan_segments(n, S)
    assert plan[0][0] == 0 and plan[-1][1] == n
    for (_, stop), (start, _) in zip(plan, plan[1:]):
        assert start <= stop  # contiguous or overlapping, never a gap
    if n >= S:
        assert all(stop - start == S for start, stop in plan)


def test_short_file_is_zero_padded():
    x = _signal(1234) + 5.0  # no zeros in the signal itself
    plan = plan_segments(1234, S)
    seg = split_segments(x, plan, S)
    assert seg.shape == (1, S)
    np.testing.assert_array_equal(seg[0, :1234], x)
    assert not seg[0, 1234:].any()
    # Whatever the model writes into the padding is dropped.
    seg[0, 1234:] = 99.0
    np.testing.assert_array_equal(merge_segments(seg, plan, 1234), x)


def _fake_outputs(n):
    """Segments whose values say which segment they came from: 1.0, 2.0, ..."""
    plan = plan_segments(n, S)
    return plan, np.stack([np.full(S, i + 1.0, np.float32) for i in range(len(plan))])


def test_official_mode_takes_overlap_from_last_segment():
    n = 2 * S + 7
    plan, outputs = _fake_outputs(n)
    y = merge_segments(outputs, plan, n, mode="official")
    # Segment 2 (value 2) is cut at n % S = 7 samples into it; segment 3 follows.
    np.testing.assert_array_equal(y[:S], 1.0)
    np.testing.assert_array_equal(y[S : S + 7], 2.0)
    np.testing.assert_array_equal(y[S + 7 :], 3.0)


def test_crossfade_mode_blends_smoothly_over_the_overlap():
    n = 2 * S + 7
    plan, outputs = _fake_outputs(n)
    y = merge_segments(outputs, plan, n, mode="crossfade")
    start, stop = n - S, 2 * S  # overlap of segments 2 and 3
    np.testing.assert_array_equal(y[:start], np.r_[np.ones(S), np.full(start - S, 2.0)])
    np.testing.assert_array_equal(y[stop:], 3.0)
    fade = y[start:stop].astype(np.float64)
    assert np.all(np.diff(fade) >= 0)  # monotone from 2 to 3
    assert 2.0 <= fade[0] < 2.001 and 2.999 < fade[-1] <= 3.0
    np.testing.assert_allclose(fade + fade[::-1], 5.0, atol=1e-6)  # symmetric
    # Both modes agree outside the overlap.
    official = merge_segments(outputs, plan, n, mode="official")
    np.testing.assert_array_equal(y[:start], official[:start])
    np.testing.assert_array_equal(y[stop:], official[stop:])


def test_errors():
    with pytest.raises(ValueError, match="n_samples"):
        plan_segments(0, S)
    with pytest.raises(ValueError, match="segment_size"):
        plan_segments(10, 0)
    plan = plan_segments(S + 1, S)
    with pytest.raises(ValueError, match="1-D"):
        split_segments(np.zeros((S + 1, 2)), plan, S)
    with pytest.raises(ValueError, match="waveform has"):
        split_segments(np.zeros(S), plan, S)
    with pytest.raises(ValueError, match="mode"):
        merge_segments(np.zeros((2, S)), plan, S + 1, mode="average")
    with pytest.raises(ValueError, match="one row per planned segment"):
        merge_segments(np.zeros((3, S)), plan, S + 1)
    with pytest.raises(ValueError, match="n_samples"):
        merge_segments(np.zeros((2, S)), plan, S + 2)
