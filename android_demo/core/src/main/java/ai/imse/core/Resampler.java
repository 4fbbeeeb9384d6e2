package ai.imse.core;

/**
 * Sample-rate conversion by a polyphase windowed-sinc filter (Kaiser window, beta 8.6).
 *
 * <p>Quality: 32 zero crossings of the sinc (16 per side) at the lower of the two Nyquist
 * frequencies times 0.95, so the passband is flat to about 0.9 of the lower Nyquist and the
 * stopband is attenuated by roughly 80 dB; each phase's taps are normalised to unit DC gain.
 * This is a simpler filter than the soxr "HQ" resampler of the Python CLI, so resampled
 * outputs agree with Python's only to about -60 dB, not bit for bit; the model's own rate
 * (16 kHz) needs no resampling at all.
 *
 * <p>The output has {@code round(n * to / from)} samples; output sample {@code m} sits at input
 * time {@code m * from / to}.
 */
public final class Resampler {

    private static final int ZEROS = 16;
    private static final double BETA = 8.6;
    private static final double ROLLOFF = 0.95;
    private static final int MAX_TABLE = 1 << 20;

    private Resampler() {
    }

    public static float[] resample(float[] x, int from, int to) {
        if (from < 1 || to < 1) {
            throw new IllegalArgumentException("sample rates must be positive: " + from + " -> " + to);
        }
        if (from == to) {
            return x.clone();
        }
        int g = gcd(from, to);
        final int up = to / g;
        final int down = from / g;
        final int n = x.length;
        final int outLen = (int) (((long) n * up + down / 2) / down);
        final double fc = Math.min(1.0, up / (double) down) * ROLLOFF; // in units of input Nyquist
        final int halfTaps = (int) Math.ceil(ZEROS / fc);
        final int taps = 2 * halfTaps;
        final boolean table = (long) up * taps <= MAX_TABLE;
        final double[] kernel = table ? new double[up * taps] : null;
        final double i0Beta = besselI0(BETA);
        final double[] scratch = new double[taps];
        if (table) {
            for (int p = 0; p < up; p++) {
                phase(p / (double) up, fc, halfTaps, i0Beta, scratch);
                System.arraycopy(scratch, 0, kernel, p * taps, taps);
            }
        }
        float[] y = new float[outLen];
        for (int m = 0; m < outLen; m++) {
            long pos = (long) m * down;
            int i = (int) (pos / up);
            int p = (int) (pos % up);
            double[] k;
            int ko;
            if (table) {
                k = kernel;
                ko = p * taps;
            } else {
                phase(p / (double) up, fc, halfTaps, i0Beta, scratch);
                k = scratch;
                ko = 0;
            }
            double acc = 0.0;
            int first = i - halfTaps + 1; // taps cover x[first .. first + taps)
            for (int j = 0; j < taps; j++) {
                int idx = first + j;
                if (idx >= 0 && idx < n) {
                    acc += x[idx] * k[ko + j];
                }
            }
            y[m] = (float) acc;
        }
        return y;
    }

    /** Taps for fractional delay {@code frac} in [0, 1): tap j weighs x[i - halfTaps + 1 + j]. */
    private static void phase(double frac, double fc, int halfTaps, double i0Beta, double[] out) {
        double sum = 0.0;
        for (int j = 0; j < out.length; j++) {
            double t = (j - halfTaps + 1) - frac; // input offset minus output position
            double r = t / halfTaps;
            double w = Math.abs(r) >= 1.0 ? 0.0 : besselI0(BETA * Math.sqrt(1.0 - r * r)) / i0Beta;
            double xarg = Math.PI * fc * t;
            double sinc = t == 0.0 ? 1.0 : Math.sin(xarg) / xarg;
            out[j] = fc * sinc * w;
            sum += out[j];
        }
        if (sum != 0.0) {
            for (int j = 0; j < out.length; j++) {
                out[j] /= sum;
            }
        }
    }

    private static double besselI0(double x) {
        double sum = 1.0;
        double term = 1.0;
        double q = x * x / 4.0;
        for (int k = 1; k < 60; k++) {
            term *= q / ((double) k * k);
            sum += term;
            if (term < 1e-17 * sum) {
                break;
            }
        }
        return sum;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
