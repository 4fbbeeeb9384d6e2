"""STFT front end and RMS normalisation: numpy/scipy references and PyTorch parity."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from imse_keras.dsp.normalize import rms_normalize
from imse_keras.dsp.stft import hann_window, istft, mag_pha_istft, mag_pha_stft, stft

N_FFT, HOP = 510, 100
PARITY_FILES = ("imse_random_init.npz", "imse_pretrained_3399.npz")


def _signal(n, seed=0, lead=()):
    return np.random.default_rng(seed).standard_normal((*lead, n)).astype(np.float32)


def _reference_stft(x, n_fft, hop):
    """Frame-by-frame DFT with explicit reflect padding: slow, obviously right."""
    pad = n_fft // 2
    # torch "reflect" excludes the edge sample: [x3 x2 x1 | x0 x1 ... ].
    xp = np.concatenate([x[1 : pad + 1][::-1], x, x[-pad - 1 : -1][::-1]]).astype(np.float64)
    k = np.arange(n_fft)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * k / n_fft)
    dft = np.exp(-2j * np.pi * np.outer(np.arange(n_fft // 2 + 1), k) / n_fft)
    n_frames = 1 + len(x) // hop
    return np.stack(
        [dft @ (xp[t * hop : t * hop + n_fft] * win) for t in range(n_frames)], axis=-1
    )


# --- window -----------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 7, 16, 510])
def test_hann_window_matches_scipy_periodic(n):
    expected = scipy.signal.get_window("hann", n, fftbins=True)
    np.testing.assert_allclose(hann_window(n), expected, atol=1e-7)
    assert hann_window(n).dtype == np.float32


def test_hann_window_is_periodic_not_symmetric():
    w = hann_window(N_FFT).astype(np.float64)
    # Periodic = the first n points of the symmetric window of length n + 1.
    np.testing.assert_allclose(w, scipy.signal.windows.hann(N_FFT + 1, sym=True)[:-1], atol=1e-7)
    assert w[0] == 0.0 and w[-1] > 0.0
    np.testing.assert_allclose(w[1:], w[1:][::-1], atol=1e-7)


# --- forward ----------------------------------------------------------------


@pytest.mark.parametrize("n", [256, 999, 1000, 4321])
def test_stft_matches_direct_dft(n):
    x = _signal(n, seed=n)
    spec = stft(x, N_FFT, HOP)
    assert spec.dtype == np.complex64
    assert spec.shape == (N_FFT // 2 + 1, 1 + n // HOP)
    ref = _reference_stft(x, N_FFT, HOP)
    np.testing.assert_allclose(spec, ref, atol=1e-4 * np.abs(ref).max())


def test_stft_matches_scipy():
    x = _signal(9876, seed=1)
    spec = stft(x, N_FFT, HOP)
    # scipy's "even" extension is the same reflection; it scales by 1/sum(win)
    # and may add a zero-padded frame at the end.
    _, _, ref = scipy.signal.stft(
        x.astype(np.float64), window="hann", nperseg=N_FFT, noverlap=N_FFT - HOP,
        boundary="even", padded=True, detrend=False,
    )
    ref = ref[:, : spec.shape[1]] * scipy.signal.get_window("hann", N_FFT).sum()
    np.testing.assert_allclose(spec, ref, atol=1e-4 * np.abs(ref).max())


def test_stft_batch_axes():
    x = _signal(3000, seed=2, lead=(2, 3))
    spec = stft(x)
    assert spec.shape == (2, 3, 256, 31)
    np.testing.assert_array_equal(spec[1, 2], stft(x[1, 2]))


def test_stft_rejects_too_short_input():
    stft(np.zeros(N_FFT // 2 + 1, np.float32))  # the shortest accepted length
    with pytest.raises(ValueError, match="at least n_fft // 2 \\+ 1 = 256 samples"):
        stft(np.zeros(N_FFT // 2, np.float32))
    with pytest.raises(ValueError, match="at least"):
        mag_pha_stft(np.zeros(10, np.float32))


def test_stft_rejects_bad_arguments():
    x = _signal(1000)
    with pytest.raises(ValueError, match="hop_length"):
        stft(x, 510, 0)
    with pytest.raises(ValueError, match="real"):
        stft(x.astype(np.complex64))


# --- inverse ----------------------------------------------------------------


@pytest.mark.parametrize("n", [256, 999, 1000, 1001, 9900, 12345, 30700])
def test_istft_inverts_stft(n):
    x = _signal(n, seed=n)
    y = istft(stft(x), length=n)
    assert y.dtype == np.float32 and y.shape == (n,)
    np.testing.assert_allclose(y, x, atol=1e-5)


def test_istft_default_length_is_hops_times_frames_minus_one():
    x = _signal(3000, seed=3)
    y = istft(stft(x))
    assert y.shape == (3000,)
    np.testing.assert_allclose(y, x, atol=1e-5)
    # Not a multiple of the hop: the default drops the tail, like torch.
    assert istft(stft(x[:3057])).shape == (3000,)


def test_istft_pads_zeros_past_the_signal():
    x = _signal(1000, seed=4)
    spec = stft(x)
    longest = HOP * (spec.shape[-1] - 1) + N_FFT // 2  # everything the frames cover
    y = istft(spec, length=longest + 25)
    assert y.shape == (longest + 25,)
    np.testing.assert_array_equal(y[longest:], 0.0)
    np.testing.assert_allclose(y[:1000], x, atol=1e-5)


def test_istft_batch_axes_and_scipy_inverse():
    x = _signal(4000, seed=5, lead=(2,))
    spec = stft(x)
    y = istft(spec, length=4000)
    np.testing.assert_allclose(y, x, atol=1e-5)
    # scipy's istft is also the windowed least-squares inverse.
    win_sum = scipy.signal.get_window("hann", N_FFT).sum()
    _, ref = scipy.signal.istft(
        spec[0].astype(np.complex128) / win_sum, window="hann", nperseg=N_FFT,
        noverlap=N_FFT - HOP, boundary=True,
    )
    np.testing.assert_allclose(y[0], ref[:4000], atol=1e-5)


def test_istft_raises_when_nola_fails():
    # Hann frames that just touch leave zeros in the envelope.
    spec = stft(_signal(256), n_fft=16, hop_length=16)
    with pytest.raises(ValueError, match="NOLA"):
        istft(spec, n_fft=16, hop_length=16)


def test_istft_rejects_wrong_bin_count():
    with pytest.raises(ValueError, match="F=256"):
        istft(np.zeros((255, 10), np.complex64))


@pytest.mark.parametrize("n", [777, 30700])
def test_mag_pha_round_trip(n):
    x = _signal(n, seed=6)
    mag_c, pha = mag_pha_stft(x)
    assert mag_c.dtype == pha.dtype == np.float32
    assert mag_c.shape == pha.shape == (256, 1 + n // HOP)
    assert np.all(mag_c >= 0) and np.all(np.abs(pha) <= np.pi)
    np.testing.assert_allclose(mag_c, np.abs(stft(x)) ** 0.3, rtol=1e-5)
    np.testing.assert_allclose(mag_pha_istft(mag_c, pha, length=n), x, atol=1e-4)


def test_mag_pha_stft_of_silence_is_zero():
    mag_c, pha = mag_pha_stft(np.zeros(1000, np.float32))
    assert not mag_c.any() and not pha.any()


def test_mag_pha_istft_rejects_negative_magnitude():
    mag_c, pha = mag_pha_stft(_signal(500))
    mag_c[3, 2] = -0.1
    with pytest.raises(ValueError, match="non-negative"):
        mag_pha_istft(mag_c, pha)


# --- RMS normalisation --------------------------------------------------------


def test_rms_normalize_gives_unit_rms():
    x = 0.01 * _signal(12345, seed=7)
    y, norm = rms_normalize(x)
    assert y.dtype == np.float32 and isinstance(norm, float)
    np.testing.assert_allclose(np.sqrt(np.mean(y.astype(np.float64) ** 2)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(norm, 1.0 / np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    np.testing.assert_allclose(y / norm, x, rtol=1e-6)


def test_rms_normalize_silence_keeps_norm_one():
    y, norm = rms_normalize(np.zeros(100, np.int16))
    assert norm == 1.0 and y.dtype == np.float32 and not y.any()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_rms_normalize_rejects_non_finite(bad):
    x = _signal(100)
    x[10] = bad
    with pytest.raises(ValueError, match="non-finite"):
        rms_normalize(x)


def test_rms_normalize_rejects_empty_and_multichannel():
    with pytest.raises(ValueError, match="empty"):
        rms_normalize(np.zeros(0, np.float32))
    with pytest.raises(ValueError, match="1-D"):
        rms_normalize(np.zeros((100, 2), np.float32))


# --- parity with the official PyTorch front end ------------------------------
#
# The fixture is a 9,900-sample signal, already RMS-normalised, with its
# torch.stft features and the torch.istft of the model's outputs. Measured
# max abs errors (both files): magnitude 9.3e-6, phase 6.3e-5 rad, waveform
# 1.2e-6 (random init) and 5.7e-6 (pretrained, peak 15.2): float32 rounding
# in torch. Phase is only meaningful where the bin has energy: torch's float32
# error in X is a few 1e-6 absolute, which is ~3e-4 rad at |X| = 1e-2, the
# tolerance used, so bins with |X| < 1e-2 are masked. The fixture's smallest
# |X| is 0.0156, so in practice every bin is compared.


@pytest.fixture(params=PARITY_FILES)
def parity_io(request, shared_dir):
    path = shared_dir / "parity" / request.param
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with np.load(path) as data:
        return {k[3:]: data[k] for k in data.files if k.startswith("io/")}


def test_parity_mag_pha_stft(parity_io):
    mag_c, pha = mag_pha_stft(parity_io["wav_in_normalized"][0])
    np.testing.assert_allclose(mag_c, parity_io["noisy_mag"][0], atol=3e-5, rtol=1e-5)
    ref_pha = parity_io["noisy_pha"][0]
    diff = np.angle(np.exp(1j * (pha.astype(np.float64) - ref_pha)))  # modulo 2 pi
    mask = mag_c.astype(np.float64) ** (1 / 0.3) >= 1e-2
    assert mask.mean() > 0.9  # the comparison must not be vacuous
    assert np.abs(diff[mask]).max() < 3e-4


def test_parity_mag_pha_istft(parity_io):
    wav = mag_pha_istft(
        parity_io["denoised_mag"][0], parity_io["denoised_pha"][0], length=9900
    )
    ref = parity_io["wav_out_normalized"][0]
    assert wav.shape == ref.shape
    np.testing.assert_allclose(wav, ref, atol=1e-4)
    # The official code calls istft without length: same result here.
    np.testing.assert_array_equal(
        mag_pha_istft(parity_io["denoised_mag"][0], parity_io["denoised_pha"][0]), wav
    )


def test_parity_rms_normalize(parity_io):
    x = parity_io["wav_in_normalized"][0]
    y, norm = rms_normalize(x)
    assert abs(norm - 1.0) < 1e-6
    np.testing.assert_allclose(y, x, rtol=1e-6)
    # Undo the official normalisation and redo it: the same factor comes back.
    raw = x / parity_io["norm_factor"]
    y, norm = rms_normalize(raw)
    np.testing.assert_allclose(norm, parity_io["norm_factor"], rtol=1e-5)
    np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-6)


def test_reflection_centred_frames_are_exactly_real():
    """Frame 0 (and the last when (n - 1) % hop == 0) has an exactly real
    spectrum; its phase must not depend on rounding (+pi, never -pi)."""
    rng = np.random.default_rng(7)
    for n in (30700, 30701, 1001):
        x = rng.standard_normal(n).astype(np.float32)
        spec = stft(x)
        assert np.all(spec[:, 0].imag == 0)
        _, pha = mag_pha_stft(x)
        assert np.all((pha[:, 0] == 0) | (pha[:, 0] == np.float32(np.pi)))
        last_is_centred = (n - 1) % 100 == 0
        assert np.all(spec[:, -1].imag == 0) == last_is_centred
        # A 1e-7 relative change of the input leaves those phases unchanged.
        _, pha2 = mag_pha_stft(x * np.float32(1 - 1e-7))
        np.testing.assert_array_equal(pha[:, 0], pha2[:, 0])
