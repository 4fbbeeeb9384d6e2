package ai.imse.core;

/**
 * STFT and inverse STFT with the conventions of {@code imse_keras.dsp.stft} (that is,
 * {@code torch.stft}/{@code torch.istft}): periodic Hann window of length {@code nFft},
 * {@code center=True} with reflect padding of {@code nFft / 2} on each side, no normalisation,
 * one-sided spectrum of {@code F = nFft / 2 + 1} bins, and an inverse that divides the
 * overlap-added frames by the overlap-added squared window.
 *
 * <p>Layout: spectra are <b>frames-first</b>, element {@code [t][f]} at {@code t * F + f}, the
 * layout of the model's {@code [1, T, F]} tensors.
 *
 * <p>{@code nFft = 510} is not a power of two, so the transforms are direct real DFTs from a
 * precomputed table, halved by the even/odd symmetry of real signals: about
 * {@code 2 (nFft/2)^2 = 130k} multiply-adds per frame and direction, about 40 M per 1.92 s
 * segment each way (roughly 0.1 s for both directions on a desktop JVM). All arithmetic is double precision, as on the Python side.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Stft {

    private static final double NOLA_EPS = 1e-11;

    public final int nFft;
    public final int hop;
    public final int numFreqs;
    private final double[] window;
    /**
     * {@code cos(2 pi r c / nFft)} and {@code sin(...)} for rows {@code r = 0..nFft/2} and
     * columns {@code c = 1..nFft/2-1}, at {@code r * (nFft/2 - 1) + c - 1}: the forward
     * transform reads row = bin, the inverse row = sample (the kernel is symmetric). 2 x 0.5 MB
     * for nFft = 510, read sequentially.
     */
    private final double[] cosTable;
    private final double[] sinTable;
    private final int cols;

    public Stft(int nFft, int hop) {
        if (nFft < 4 || nFft % 2 != 0) {
            throw new IllegalArgumentException("nFft must be even and >= 4, got " + nFft);
        }
        if (hop < 1 || hop > nFft) {
            throw new IllegalArgumentException("hop must be in [1, nFft], got " + hop);
        }
        this.nFft = nFft;
        this.hop = hop;
        this.numFreqs = nFft / 2 + 1;
        window = hann(nFft);
        double[] cos = new double[nFft];
        double[] sin = new double[nFft];
        for (int m = 0; m < nFft; m++) {
            double a = 2.0 * Math.PI * m / nFft;
            cos[m] = Math.cos(a);
            sin[m] = Math.sin(a);
        }
        final int half = nFft / 2;
        cols = half - 1;
        cosTable = new double[(half + 1) * cols];
        sinTable = new double[(half + 1) * cols];
        for (int r = 0; r <= half; r++) {
            for (int c = 1; c < half; c++) {
                int m = (int) ((long) r * c % nFft);
                cosTable[r * cols + c - 1] = cos[m];
                sinTable[r * cols + c - 1] = sin[m];
            }
        }
    }

    /** Periodic Hann window {@code 0.5 - 0.5 cos(2 pi n / N)}, as {@code torch.hann_window}. */
    public static double[] hann(int n) {
        double[] w = new double[n];
        if (n == 1) {
            w[0] = 1.0;
            return w;
        }
        for (int i = 0; i < n; i++) {
            w[i] = 0.5 - 0.5 * Math.cos(2.0 * Math.PI * i / n);
        }
        return w;
    }

    /** {@code 1 + n / hop}. */
    public int numFrames(int samples) {
        return 1 + samples / hop;
    }

    /**
     * Complex STFT of {@code x[off, off + n)} into {@code re}, {@code im} ({@code numFrames(n) * F}
     * each, frames-first).
     *
     * <p>As in Python, a frame centred on a reflection point (the first; the last when
     * {@code (n - 1) % hop == 0}) is set exactly real, and the DC and Nyquist bins of every frame
     * have an imaginary part of exactly +0, so their phase is exactly 0 or +pi.
     *
     * @throws IllegalArgumentException if {@code n <= nFft / 2} (too short to reflect-pad).
     */
    public void forward(float[] x, int off, int n, double[] re, double[] im) {
        final int pad = nFft / 2;
        if (n <= pad) {
            throw new IllegalArgumentException("the STFT needs at least " + (pad + 1)
                    + " samples for its reflect padding; got " + n);
        }
        if (off < 0 || off + n > x.length) {
            throw new IllegalArgumentException("range out of bounds");
        }
        final int frames = numFrames(n);
        final int f = numFreqs;
        if (re.length < frames * f || im.length < frames * f) {
            throw new IllegalArgumentException("output arrays too small for " + frames + " frames");
        }
        final int half = nFft / 2;
        final double[] frame = new double[nFft];
        final double[] a = new double[half]; // a[j] = frame[j] + frame[N - j], j = 1..half-1
        final double[] b = new double[half]; // b[j] = frame[j] - frame[N - j]
        final boolean lastReal = hop > 1 && (n - 1) % hop == 0;
        for (int t = 0; t < frames; t++) {
            int start = t * hop - pad; // index into x of the frame's first sample
            for (int j = 0; j < nFft; j++) {
                int idx = start + j;
                if (idx < 0) {
                    idx = -idx;
                } else if (idx >= n) {
                    idx = 2 * (n - 1) - idx;
                }
                frame[j] = x[off + idx] * window[j];
            }
            for (int j = 1; j < half; j++) {
                a[j] = frame[j] + frame[nFft - j];
                b[j] = frame[j] - frame[nFft - j];
            }
            final double f0 = frame[0];
            final double fh = frame[half];
            final boolean real = t == 0 || (lastReal && t == frames - 1);
            final int base = t * f;
            for (int k = 0; k < f; k++) {
                double sr = f0 + ((k & 1) == 0 ? fh : -fh);
                double si = 0.0;
                final int row = k * cols - 1;
                for (int j = 1; j < half; j++) {
                    sr += a[j] * cosTable[row + j];
                    si += b[j] * sinTable[row + j];
                }
                re[base + k] = sr;
                im[base + k] = (real || k == 0 || k == f - 1) ? 0.0 : -si;
            }
        }
    }

    /**
     * The model inputs {@code mag_c = |X| ^ compress} and {@code pha = angle(X)} in
     * {@code (-pi, pi]}, float32, frames-first, like {@code mag_pha_stft}.
     */
    public void magPha(float[] x, int off, int n, double compress, float[] magC, float[] pha) {
        if (!(compress > 0)) {
            throw new IllegalArgumentException("compress factor must be > 0");
        }
        int count = numFrames(n) * numFreqs;
        double[] re = new double[count];
        double[] im = new double[count];
        forward(x, off, n, re, im);
        for (int i = 0; i < count; i++) {
            double mag = Math.sqrt(re[i] * re[i] + im[i] * im[i]);
            magC[i] = (float) Math.pow(mag, compress);
            pha[i] = (float) Math.atan2(im[i], re[i]);
        }
    }

    /**
     * Inverse STFT of a frames-first spectrum, as {@code imse_keras.dsp.stft.istft}: each frame
     * is inverse real-DFT'd (the imaginary parts of DC and Nyquist ignored), windowed,
     * overlap-added and divided by the overlap-added squared window; {@code nFft / 2} samples
     * are cut from the start.
     *
     * @param length samples to return; a negative value gives {@code hop * (frames - 1)}; samples
     *     beyond what the frames cover are zero.
     */
    public float[] inverse(double[] re, double[] im, int frames, int length) {
        if (frames < 1) {
            throw new IllegalArgumentException("the inverse STFT needs at least one frame");
        }
        final int f = numFreqs;
        if (re.length < frames * f || im.length < frames * f) {
            throw new IllegalArgumentException("spectrum arrays too small for " + frames + " frames");
        }
        final int half = nFft / 2;
        final int full = nFft + hop * (frames - 1);
        final double[] y = new double[full];
        final double[] frame = new double[nFft];
        for (int t = 0; t < frames; t++) {
            final int base = t * f;
            final double dc = re[base];
            final double ny = re[base + f - 1];
            for (int j = 0; j <= half; j++) {
                double c = 0.0;
                double s = 0.0;
                final int row = j * cols - 1;
                for (int k = 1; k < half; k++) {
                    c += re[base + k] * cosTable[row + k];
                    s += im[base + k] * sinTable[row + k];
                }
                double common = dc + ((j & 1) == 0 ? ny : -ny);
                frame[j] = (common + 2.0 * (c - s)) / nFft;
                if (j > 0 && j < half) {
                    frame[nFft - j] = (common + 2.0 * (c + s)) / nFft;
                }
            }
            final int start = t * hop;
            for (int j = 0; j < nFft; j++) {
                y[start + j] += frame[j] * window[j];
            }
        }
        final double[] env = new double[full];
        for (int t = 0; t < frames; t++) {
            final int start = t * hop;
            for (int j = 0; j < nFft; j++) {
                env[start + j] += window[j] * window[j];
            }
        }
        final int begin = half;
        final int end = length < 0 ? full - half : begin + length;
        final int stop = Math.min(end, full);
        final float[] out = new float[end - begin];
        for (int i = begin; i < stop; i++) {
            if (env[i] < NOLA_EPS) {
                throw new IllegalArgumentException("the squared-window envelope vanishes at sample "
                        + (i - begin) + " (NOLA violated for nFft=" + nFft + ", hop=" + hop + ")");
            }
            out[i - begin] = (float) (y[i] / env[i]);
        }
        return out;
    }

    /**
     * Waveform from compressed magnitude and phase (float32, frames-first), as
     * {@code mag_pha_istft}: {@code |X| = magC ^ (1 / compress)}, {@code X = |X| (cos + j sin)}.
     *
     * @throws IllegalArgumentException for a negative magnitude.
     */
    public float[] magPhaInverse(float[] magC, float[] pha, int frames, double compress, int length) {
        if (!(compress > 0)) {
            throw new IllegalArgumentException("compress factor must be > 0");
        }
        int count = frames * numFreqs;
        if (magC.length < count || pha.length < count) {
            throw new IllegalArgumentException("arrays too small for " + frames + " frames");
        }
        double inv = 1.0 / compress;
        double[] re = new double[count];
        double[] im = new double[count];
        for (int i = 0; i < count; i++) {
            double m = magC[i];
            if (m < 0) {
                throw new IllegalArgumentException("negative magnitude " + m + " at index " + i);
            }
            double mag = Math.pow(m, inv);
            double p = pha[i];
            re[i] = mag * Math.cos(p);
            im[i] = mag * Math.sin(p);
        }
        return inverse(re, im, frames, length);
    }
}
