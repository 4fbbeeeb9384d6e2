"""Tests for imse_keras.metrics: PESQ/STOI wrappers, SI-SDR, composite measures, evaluation.

The loop references below transcribe the per-frame algorithm of CMGAN's
``compute_metrics.py`` (Loizou's ``composite.m``) one frame and one band at a time;
the vectorised module must match them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.fft
import scipy.linalg

from imse_keras.metrics import (
    METRICS,
    composite,
    format_table,
    llr_frames,
    pesq_wb,
    score_pair,
    segmental_snr_frames,
    si_sdr,
    stoi,
    summarize,
    wss_frames,
)

SR = 16000


# --- Test signals -------------------------------------------------------------------


def _speech_like(seed: int = 0, seconds: float = 3.0) -> np.ndarray:
    """Voiced 'syllables' with gliding pitch, moving formants and pauses, peak 0.5."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n)
    t0 = int(0.15 * SR)
    while t0 < n - int(0.3 * SR):
        dur = int(rng.uniform(0.18, 0.35) * SR)
        t = np.arange(dur) / SR
        f0 = rng.uniform(100, 180) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
        phase = 2 * np.pi * np.cumsum(f0) / SR
        formants = rng.uniform([300, 900, 2200], [800, 1800, 3200])
        glide = 1 + 0.2 * np.linspace(-1, 1, dur)[:, None] * rng.uniform(-1, 1, 3)
        seg = np.zeros(dur)
        for h in range(1, 40):
            fh = h * f0
            amp = np.sum(np.exp(-0.5 * ((fh[:, None] - formants * glide) / 120.0) ** 2), axis=1)
            seg += (amp + 0.02) * np.sin(h * phase) * (fh < 7000)
        seg += 0.05 * rng.standard_normal(dur)  # breath noise
        seg *= np.sin(np.pi * np.arange(dur) / dur) ** 0.7 * rng.uniform(0.4, 1.0)
        out[t0 : t0 + dur] += seg
        t0 += dur + int(rng.uniform(0.06, 0.25) * SR)
    out = 0.5 * out / np.max(np.abs(out))
    # A recording never has digital silence: a -70 dB floor keeps every frame's LPC defined.
    return out + 3e-4 * rng.standard_normal(n)


def _add_noise(x: np.ndarray, snr_db: float, seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(x.size)
    noise *= np.sqrt(np.sum(x**2) / np.sum(noise**2) / 10 ** (snr_db / 10))
    return x + noise


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return _speech_like()


def _read(path):
    import soundfile as sf

    x, sr = sf.read(path, dtype="float64")
    assert sr == SR and x.ndim == 1
    return x


@pytest.fixture(scope="module")
def vb_pairs(request):
    shared = request.getfixturevalue("shared_dir")
    clean = sorted((shared / "audio" / "vb_dev" / "clean").glob("*.wav"))
    assert len(clean) == 25
    return [(p.name, _read(p), _read(p.parent.parent / "noisy" / p.name)) for p in clean]


# --- Loop references (one frame, one band at a time, as in compute_metrics.py) -----


def _hanning(n):
    return 0.5 * (1 - np.cos(2 * math.pi * np.arange(1, n + 1) / (n + 1)))


def _n_frames(length, win, hop):
    return int(length / hop - (win / hop))


def _wss_loop(clean, processed, sr):
    clean = clean / 32768
    processed = processed / 32768
    win = round(30 * sr / 1000)
    hop = math.floor(win / 4)
    max_freq = int(sr / 2)
    num_crit = 25
    n_fft = int(2 ** math.ceil(math.log2(2 * win)))
    half = n_fft // 2
    cent = [50.0, 120.0, 190.0, 260.0, 330.0, 400.0, 470.0, 540.0, 617.372, 703.378,
            798.717, 904.128, 1020.38, 1148.30, 1288.72, 1442.54, 1610.70, 1794.16,
            1993.93, 2211.08, 2446.71, 2701.97, 2978.04, 3276.17, 3597.63]
    bws = [70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 77.3724, 86.0056, 95.3398, 105.411,
           116.256, 127.914, 140.423, 153.823, 168.154, 183.457, 199.776, 217.153,
           235.631, 255.255, 276.072, 298.126, 321.465, 346.136]
    min_factor = math.exp(-30.0 / (2.0 * 2.303))
    filt = np.zeros((num_crit, half))
    for i in range(num_crit):
        f0 = cent[i] / max_freq * half
        bw = bws[i] / max_freq * half
        norm = math.log(bws[0]) - math.log(bws[i])
        for j in range(half):
            v = math.exp(-11 * ((j - math.floor(f0)) / bw) ** 2 + norm)
            filt[i, j] = v if v > min_factor else 0.0
    window = _hanning(win)

    def peaks(energy, slope):
        loc = np.empty(num_crit - 1)
        for i in range(num_crit - 1):
            n = i
            if slope[i] > 0:
                while n < num_crit - 1 and slope[n] > 0:
                    n += 1
                loc[i] = energy[n - 1]
            else:
                while n >= 0 and slope[n] <= 0:
                    n -= 1
                loc[i] = energy[n + 1]
        return loc

    out = []
    for k in range(_n_frames(clean.size, win, hop)):
        s = k * hop
        e_c, e_p = [
            10 * np.log10(np.maximum(
                filt @ (np.abs(scipy.fft.fft(x[s : s + win] * window, n_fft)) ** 2)[:half],
                1e-10))
            for x in (clean, processed)
        ]
        sl_c, sl_p = np.diff(e_c), np.diff(e_p)
        pk_c, pk_p = peaks(e_c, sl_c), peaks(e_p, sl_p)
        w_c = 20 / (20 + e_c.max() - e_c[:-1]) * (1 / (1 + pk_c - e_c[:-1]))
        w_p = 20 / (20 + e_p.max() - e_p[:-1]) * (1 / (1 + pk_p - e_p[:-1]))
        w = (w_c + w_p) / 2
        out.append(np.dot(w, (sl_c - sl_p) ** 2) / np.sum(w))
    return np.array(out)


def _lpc_loop(frame, order):
    L = frame.size
    r = np.array([np.dot(frame[: L - k], frame[k:]) for k in range(order + 1)])
    a = np.zeros(order)
    err = r[0]
    for i in range(order):
        acc = sum(a[j] * r[i - j] for j in range(i))
        k = (r[i + 1] - acc) / err
        prev = a.copy()
        for j in range(i):
            a[j] = prev[j] - k * prev[i - 1 - j]
        a[i] = k
        err *= 1 - k * k
    return r, np.concatenate([[1.0], -a])


def _llr_loop(clean, processed, sr):
    win = round(30 * sr / 1000)
    hop = math.floor(win / 4)
    order = 10 if sr < 10000 else 16
    window = _hanning(win)
    out = []
    for k in range(int((clean.size - win) / hop)):
        s = k * hop
        r_c, a_c = _lpc_loop(clean[s : s + win] * window, order)
        _, a_p = _lpc_loop(processed[s : s + win] * window, order)
        t = scipy.linalg.toeplitz(r_c)
        out.append(math.log((a_p @ t @ a_p) / (a_c @ t @ a_c)))
    return np.array(out)


def _ssnr_loop(clean, processed, sr):
    win = round(30 * sr / 1000)
    hop = math.floor(win / 4)
    window = _hanning(win)
    eps = np.spacing(1)
    out = []
    for k in range(_n_frames(clean.size, win, hop)):
        s = k * hop
        c = clean[s : s + win] * window
        p = processed[s : s + win] * window
        v = 10 * math.log10(np.sum(c**2) / (np.sum((c - p) ** 2) + eps) + eps)
        out.append(min(max(v, -10), 35))
    return np.array(out)


def _composite_loop(clean, processed, pesq_score):
    clean = clean + np.spacing(1)
    processed = processed + np.spacing(1)
    wss = np.sort(_wss_loop(clean, processed, SR))
    wss = np.mean(wss[: round(wss.size * 0.95)])
    llr = np.sort(_llr_loop(clean, processed, SR))
    llr = np.mean(llr[: round(llr.size * 0.95)])
    ssnr = np.mean(_ssnr_loop(clean, processed, SR))
    csig = min(5, max(1, 3.093 - 1.029 * llr + 0.603 * pesq_score - 0.009 * wss))
    cbak = min(5, max(1, 1.634 + 0.478 * pesq_score - 0.007 * wss + 0.063 * ssnr))
    covl = min(5, max(1, 1.594 + 0.805 * pesq_score - 0.512 * llr - 0.007 * wss))
    return {"csig": csig, "cbak": cbak, "covl": covl, "ssnr": ssnr, "llr": llr, "wss": wss}


# --- Vectorised vs loop ------------------------------------------------------------


@pytest.mark.parametrize("snr_db", [20.0, 0.0])
def test_frame_measures_match_loop_reference(speech, snr_db):
    x = speech[: SR]  # 1 s keeps the pure-Python loops fast
    y = _add_noise(x, snr_db)
    np.testing.assert_allclose(wss_frames(x, y), _wss_loop(x, y, SR), rtol=0, atol=1e-6)
    np.testing.assert_allclose(llr_frames(x, y), _llr_loop(x, y, SR), rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        segmental_snr_frames(x, y), _ssnr_loop(x, y, SR), rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("length", [599, 600, 719, 720, 4800, 4801])
def test_frame_count_matches_original(length):
    x = _speech_like(seed=3, seconds=0.5)[:length]
    y = _add_noise(x, 10.0)
    expected = max(int(length / 120 - 4), 0)
    for fn in (wss_frames, llr_frames, segmental_snr_frames):
        assert fn(x, y).shape == (expected,)


def test_frame_measures_at_8k_match_loop_reference(speech):
    x = speech[:8000]  # treated as 8 kHz: 240-sample frames, LPC order 10
    y = _add_noise(x, 5.0)
    np.testing.assert_allclose(wss_frames(x, y, 8000), _wss_loop(x, y, 8000), atol=1e-6)
    np.testing.assert_allclose(llr_frames(x, y, 8000), _llr_loop(x, y, 8000), atol=1e-6)


def test_composite_matches_loop_reference_on_real_pair(vb_pairs):
    _, clean, noisy = vb_pairs[1]
    got = composite(clean, noisy, pesq_score=2.0)
    want = _composite_loop(clean, noisy, 2.0)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-6), k


# --- Identical and degraded signals -----------------------------------------------


def test_identical_signals_score_best(speech):
    s = score_pair(speech, speech.copy())
    assert s["pesq"] == pytest.approx(4.644, abs=0.01)
    assert s["stoi"] == pytest.approx(1.0, abs=1e-6)
    assert s["si_sdr"] > 100.0
    assert s["csig"] == s["cbak"] == s["covl"] == 5.0
    assert s["ssnr"] == 35.0
    c = composite(speech, speech)
    assert c["llr"] == pytest.approx(0.0, abs=1e-9)
    assert c["wss"] == pytest.approx(0.0, abs=1e-9)


def test_more_noise_scores_worse(speech):
    scores = [score_pair(speech, _add_noise(speech, snr)) for snr in (30, 15, 5, -5)]
    for key in ("pesq", "stoi", "si_sdr", "ssnr", "cbak"):
        values = [s[key] for s in scores]
        assert all(a > b for a, b in zip(values, values[1:])), (key, values)
    # White noise at a given SNR gives that SI-SDR (noise is almost orthogonal).
    assert scores[1]["si_sdr"] == pytest.approx(15.0, abs=0.3)


def test_composite_keys_and_ranges(speech):
    c = composite(speech, _add_noise(speech, 5.0))
    assert set(c) == {"csig", "cbak", "covl", "ssnr", "llr", "wss", "pesq"}
    for k in ("csig", "cbak", "covl"):
        assert 1.0 <= c[k] <= 5.0
    assert -10.0 <= c["ssnr"] <= 35.0
    assert c["llr"] > 0 and c["wss"] > 0


def test_composite_uses_given_pesq(speech):
    y = _add_noise(speech, 5.0)
    a = composite(speech, y, pesq_score=1.0)
    b = composite(speech, y, pesq_score=2.0)
    assert a["pesq"] == 1.0
    assert b["csig"] - a["csig"] == pytest.approx(0.603, abs=1e-9)


def test_digital_silence_gives_finite_llr(speech):
    x = speech.copy()
    x[: SR // 2] = 0.0  # half a second of exact zeros in both signals
    y = x.copy()
    y[SR // 2 :] = _add_noise(x[SR // 2 :], 10.0)
    c = composite(x, y, pesq_score=3.0)
    assert np.isfinite(llr_frames(x + np.spacing(1), y + np.spacing(1))).all()
    assert all(np.isfinite(c[k]) for k in c)


# --- PESQ / STOI wrappers ----------------------------------------------------------


def test_pesq_silent_reference_is_nan(speech):
    assert math.isnan(pesq_wb(np.zeros(SR), _add_noise(speech[:SR], 0.0)))
    assert math.isnan(pesq_wb(np.zeros(SR), np.zeros(SR)))


def test_pesq_stoi_reject_bad_input(speech):
    x = speech[:SR]
    with pytest.raises(ValueError, match="16 kHz"):
        pesq_wb(x, x, sr=8000)
    with pytest.raises(ValueError, match="16 kHz"):
        stoi(x, x, sr=22050)
    with pytest.raises(ValueError, match="same length"):
        pesq_wb(x, x[:-1])
    with pytest.raises(ValueError, match="0.25 s"):
        pesq_wb(x[:1000], x[:1000])
    assert stoi(x, _add_noise(x, 0.0), extended=True) < stoi(x, x, extended=True)


# --- SI-SDR --------------------------------------------------------------------------


def test_si_sdr_scale_invariant(speech):
    y = _add_noise(speech, 7.0)
    ref = si_sdr(speech, y)
    assert si_sdr(speech, 3.0 * y) == pytest.approx(ref, abs=1e-9)
    assert si_sdr(speech, 0.01 * y) == pytest.approx(ref, abs=1e-9)
    assert si_sdr(speech, y + 0.3) == pytest.approx(ref, abs=1e-9)  # DC offset removed


def test_si_sdr_known_value(speech):
    s = speech - speech.mean()
    n = np.random.default_rng(5).standard_normal(s.size)
    n -= n.mean()
    n -= np.dot(n, s) / np.dot(s, s) * s  # orthogonal to s: optimal scale is exactly 1
    n *= np.sqrt(np.dot(s, s) / np.dot(n, n) / 10 ** (12.5 / 10))
    assert si_sdr(speech, speech + n) == pytest.approx(12.5, abs=1e-9)
    assert si_sdr(speech, -2.0 * (speech + n)) == pytest.approx(12.5, abs=1e-9)


def test_si_sdr_degenerate_inputs_are_finite(speech):
    assert si_sdr(speech, np.zeros_like(speech)) == pytest.approx(-120.0)
    assert si_sdr(np.zeros_like(speech), speech) == pytest.approx(-120.0)
    with pytest.raises(ValueError, match="same length"):
        si_sdr(speech, speech[:-5])


# --- score_pair, summarize, format_table -----------------------------------------


def test_score_pair_trims_to_shorter(speech):
    y = _add_noise(speech, 10.0)
    base = score_pair(speech, y)
    assert list(base) == list(METRICS)
    longer = score_pair(speech, np.concatenate([y, np.full(160, 0.3)]))
    assert longer == base
    shorter = score_pair(speech, y[:-160])
    assert shorter == score_pair(speech[:-160], y[:-160])


def test_score_pair_rejects_bad_input(speech):
    y = _add_noise(speech, 10.0)
    with pytest.raises(ValueError, match="differ by more than 1%"):
        score_pair(speech, y[: int(0.98 * y.size)])
    with pytest.raises(ValueError, match="1-D"):
        score_pair(speech[None, :], y[None, :])
    with pytest.raises(ValueError, match="1-D"):
        score_pair(np.stack([speech, speech], axis=1), y)
    with pytest.raises(ValueError, match="float"):
        score_pair((speech * 32767).astype(np.int16), y)
    with pytest.raises(ValueError, match="NaN"):
        score_pair(speech, np.where(np.arange(y.size) == 5, np.nan, y))
    with pytest.raises(ValueError, match="16 kHz"):
        score_pair(speech, y, sr=8000)


def test_summarize_ignores_nan():
    rows = [
        {"file": "a.wav", "pesq": 2.0, "stoi": 0.9},
        {"file": "b.wav", "pesq": float("nan"), "stoi": 0.7},
        {"file": "c.wav", "pesq": 3.0, "stoi": 0.8},
    ]
    m = summarize(rows)
    assert m["pesq"] == pytest.approx(2.5)
    assert m["stoi"] == pytest.approx(0.8)
    assert m["n"] == 3 and m["n_pesq"] == 2 and m["n_stoi"] == 3
    assert "file" not in m
    all_nan = summarize([{"pesq": float("nan")}])
    assert math.isnan(all_nan["pesq"]) and all_nan["n_pesq"] == 0
    with pytest.raises(ValueError, match="empty"):
        summarize([])


def test_format_table():
    rows = [
        {"file": "p232_003.wav", "pesq": 2.81234, "stoi": 0.9},
        {"file": "x.wav", "pesq": float("nan"), "stoi": 0.75},
    ]
    table = format_table(rows, summarize(rows))
    lines = table.splitlines()
    assert lines[0].split() == ["file", "pesq", "stoi"]
    assert "p232_003.wav" in table and "x.wav" in table
    assert lines[-1].split() == ["mean", "2.812", "0.825"]
    assert "2.812" in lines[2] and "nan" in lines[3]
    # Columns are aligned: every data line has the same length.
    data = [ln for ln in lines if not ln.startswith("-")]
    assert len({len(ln) for ln in data}) == 1


# --- Real VoiceBank+DEMAND pairs (../shared) --------------------------------------


def test_noisy_pair_in_plausible_range(vb_pairs):
    name, clean, noisy = vb_pairs[0]
    s = score_pair(clean, noisy)
    assert 1.2 <= s["pesq"] <= 3.5, (name, s)
    assert 0.7 <= s["stoi"] <= 1.0
    assert -5.0 <= s["si_sdr"] <= 25.0
    assert 1.0 <= s["covl"] <= 5.0 and 1.0 <= s["csig"] <= 5.0 and 1.0 <= s["cbak"] <= 5.0
    assert -10.0 <= s["ssnr"] <= 20.0


def test_noisy_set_matches_reference_scores(vb_pairs):
    """Our scorer reproduces the published scores of the unprocessed vb_dev input."""
    rows = [{"file": name, **score_pair(c, n)} for name, c, n in vb_pairs]
    mean = summarize(rows)
    assert mean["n_pesq"] == 25
    assert mean["pesq"] == pytest.approx(2.192, abs=0.005)
    assert mean["stoi"] == pytest.approx(0.932, abs=0.005)
    # Measured with this scorer (the full 824-file test set gives CSIG 3.35, CBAK 2.44,
    # COVL 2.63, SSNR 1.68 in CMGAN's paper; these 25 files are cleaner on average).
    assert mean["csig"] == pytest.approx(3.679, abs=0.005)
    assert mean["cbak"] == pytest.approx(2.813, abs=0.005)
    assert mean["covl"] == pytest.approx(2.958, abs=0.005)
    assert mean["ssnr"] == pytest.approx(3.945, abs=0.005)
    assert mean["si_sdr"] == pytest.approx(8.191, abs=0.005)


def test_llr_of_silent_clean_frame_is_nan_without_warning(speech):
    x = speech[:SR].copy()
    x[:2000] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        llr = llr_frames(x, _add_noise(x, 10.0))
    assert np.isnan(llr[0]) and np.isfinite(llr[-1])
