"""Fixed-size segmentation of a waveform and seamless reassembly.

The network runs on 30,700-sample segments (T = 308 frames, the training crop
length). A file of any length ``n`` is cut as the official IMSE ``inference.py``
does:

- ``n < S``: one segment ``[0, n)``, zero-padded to ``S``;
- otherwise ``floor(n / S)`` consecutive segments ``[0, S), [S, 2S), ...``
  and, if ``r = n % S > 0``, a last segment ``[n - S, n)`` that overlaps the
  one before it by ``S - r`` samples.

So every segment is full of real audio except a short file's only segment,
and the last one ends exactly at the end of the file.

Layouts: waveform ``[n_samples]``; segments ``[num_segments, segment_size]``;
a plan is a list of ``(start, stop)`` sample indices into the waveform.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from imse_keras.config import DEFAULT_OVERLAP

__all__ = ["plan_segments", "split_segments", "merge_segments", "MERGE_MODES"]

MERGE_MODES = ("official", "crossfade")


def _check_segment_size(segment_size: int) -> None:
    if int(segment_size) != segment_size or segment_size < 1:
        raise ValueError(
            f"segment_size must be a positive integer. Received: segment_size={segment_size}"
        )


def plan_segments(n_samples: int, segment_size: int = 30700) -> list[tuple[int, int]]:
    """Where each segment starts and stops in a waveform of ``n_samples``.

    Returns:
        ``[(start, stop), ...]`` in order. ``stop - start == segment_size``
        except for a file shorter than one segment: ``[(0, n_samples)]``.
        When ``n_samples % segment_size > 0`` (and the file is at least one
        segment long), the last pair is ``(n_samples - segment_size, n_samples)``
        and overlaps the pair before it.

    Raises:
        ValueError: for ``n_samples < 1`` or a non-positive ``segment_size``.
    """
    _check_segment_size(segment_size)
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer. Received: n_samples={n_samples}")
    n, s = int(n_samples), int(segment_size)
    if n < s:
        return [(0, n)]
    plan = [(i * s, (i + 1) * s) for i in range(n // s)]
    if n % s:
        plan.append((n - s, n))
    return plan


def _check_plan(plan: list[tuple[int, int]], segment_size: int) -> None:
    if not plan:
        raise ValueError("The segment plan is empty.")
    for start, stop in plan:
        if not 0 <= start < stop or stop - start > segment_size:
            raise ValueError(
                f"Invalid segment ({start}, {stop}) for segment_size={segment_size}."
            )


def split_segments(
    x: np.ndarray, plan: list[tuple[int, int]], segment_size: int = 30700
) -> np.ndarray:
    """Cut a waveform into the segments of ``plan``.

    Args:
        x: waveform ``[n_samples]``.
        plan: from :func:`plan_segments` for ``len(x)``.
        segment_size: the length every segment is padded to.

    Returns:
        ``[num_segments, segment_size]`` in ``x``'s dtype; a segment shorter
        than ``segment_size`` (a short file) is zero-padded at the end.
    """
    _check_segment_size(segment_size)
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(
            f"split_segments expects a 1-D waveform [n_samples]. Received: shape {x.shape}"
        )
    _check_plan(plan, segment_size)
    if plan[-1][1] > x.shape[0]:
        raise ValueError(
            f"The plan reaches sample {plan[-1][1]} but the waveform has {x.shape[0]}."
        )
    out = np.zeros((len(plan), segment_size), dtype=x.dtype)
    for i, (start, stop) in enumerate(plan):
        out[i, : stop - start] = x[start:stop]
    return out


def merge_segments(
    outputs: np.ndarray,
    plan: list[tuple[int, int]],
    n_samples: int,
    mode: Literal["official", "crossfade"] = DEFAULT_OVERLAP,
) -> np.ndarray:
    """Reassemble per-segment outputs into one waveform of ``n_samples``.

    Every sample not in an overlap comes from the one segment covering it.
    The overlap between the last two segments (present when
    ``n_samples % segment_size > 0``) is resolved by ``mode``:

    - ``"official"``: taken wholly from the last segment, as the official
      ``inference.py`` does by cutting the second-to-last segment short.
    - ``"crossfade"``: a raised-cosine (half-Hann) cross-fade over the whole
      overlap, from the second-to-last segment to the last. The two weights
      sum to one at every sample (constant gain for the correlated signals two
      runs of the same model give), and the result is written as
      ``a + w * (b - a)`` so that equal inputs come back bit-exact.

    Both are seamless: if every output equals its input segment,
    ``merge_segments(split_segments(x, plan), plan, len(x))`` is exactly ``x``.

    Args:
        outputs: ``[num_segments, segment_size]`` (padding of a short file's
            segment is dropped).
        plan: the plan the segments were cut with.
        n_samples: length of the original waveform.
        mode: ``"official"`` or ``"crossfade"`` (default
            :data:`imse_keras.config.DEFAULT_OVERLAP`, the one default everywhere).

    Returns:
        ``[n_samples]`` in ``outputs``' dtype.
    """
    if mode not in MERGE_MODES:
        raise ValueError(f"mode must be one of {MERGE_MODES}. Received: mode={mode!r}")
    outputs = np.asarray(outputs)
    if outputs.ndim != 2 or outputs.shape[0] != len(plan):
        raise ValueError(
            "outputs must be [num_segments, segment_size] with one row per planned "
            f"segment ({len(plan)}). Received: shape {outputs.shape}"
        )
    segment_size = outputs.shape[1]
    _check_plan(plan, segment_size)
    if plan[-1][1] != n_samples:
        raise ValueError(
            f"The plan ends at sample {plan[-1][1]}, not at n_samples={n_samples}."
        )
    y = np.zeros(n_samples, dtype=outputs.dtype)
    # Later segments overwrite the overlap, which is exactly the official rule.
    for seg, (start, stop) in zip(outputs, plan):
        y[start:stop] = seg[: stop - start]

    if mode == "crossfade" and len(plan) > 1:
        prev_start, prev_stop = plan[-2]
        last_start, _ = plan[-1]
        overlap = prev_stop - last_start
        if overlap > 0:
            a = outputs[-2, last_start - prev_start : prev_stop - prev_start].astype(np.float64)
            b = outputs[-1, :overlap].astype(np.float64)
            # Sampled at half-integer points: never exactly 0 or 1, symmetric.
            w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / overlap)
            y[last_start:prev_stop] = (a + w * (b - a)).astype(outputs.dtype)
    return y
