package ai.imse.core;

/**
 * Fixed-size segmentation and reassembly, as {@code imse_keras.dsp.segment}.
 *
 * <p>A file of {@code n} samples and segment size {@code S}: for {@code n < S} one segment
 * {@code [0, n)} zero-padded to {@code S}; otherwise {@code floor(n / S)} consecutive segments
 * and, if {@code n % S > 0}, a last segment {@code [n - S, n)} overlapping the one before.
 */
public final class Segments {

    /** How the overlap between the last two segments is resolved. */
    public enum MergeMode {
        /** Taken wholly from the last segment (the authors' {@code inference.py}). */
        OFFICIAL,
        /** Raised-cosine cross-fade over the whole overlap (the CLI default). */
        CROSSFADE
    }

    private Segments() {
    }

    /** {@code [[start, stop], ...]} for {@code n} samples. */
    public static int[][] plan(int n, int segmentSize) {
        if (segmentSize < 1) {
            throw new IllegalArgumentException("segment size must be positive, got " + segmentSize);
        }
        if (n < 1) {
            throw new IllegalArgumentException("need at least one sample, got " + n);
        }
        if (n < segmentSize) {
            return new int[][] {{0, n}};
        }
        int full = n / segmentSize;
        boolean tail = n % segmentSize != 0;
        int[][] p = new int[full + (tail ? 1 : 0)][];
        for (int i = 0; i < full; i++) {
            p[i] = new int[] {i * segmentSize, (i + 1) * segmentSize};
        }
        if (tail) {
            p[full] = new int[] {n - segmentSize, n};
        }
        return p;
    }

    /** The segments of {@code plan}, each {@code segmentSize} long (zero-padded at the end). */
    public static float[][] split(float[] x, int[][] plan, int segmentSize) {
        checkPlan(plan, segmentSize);
        if (plan[plan.length - 1][1] > x.length) {
            throw new IllegalArgumentException("the plan reaches sample " + plan[plan.length - 1][1]
                    + " but the waveform has " + x.length);
        }
        float[][] out = new float[plan.length][segmentSize];
        for (int i = 0; i < plan.length; i++) {
            System.arraycopy(x, plan[i][0], out[i], 0, plan[i][1] - plan[i][0]);
        }
        return out;
    }

    /** Reassembles per-segment outputs into {@code n} samples. */
    public static float[] merge(float[][] outputs, int[][] plan, int n, MergeMode mode) {
        if (outputs.length != plan.length || outputs.length == 0) {
            throw new IllegalArgumentException("need one output per planned segment ("
                    + plan.length + "), got " + outputs.length);
        }
        int segmentSize = outputs[0].length;
        checkPlan(plan, segmentSize);
        if (plan[plan.length - 1][1] != n) {
            throw new IllegalArgumentException("the plan ends at " + plan[plan.length - 1][1]
                    + ", not at n=" + n);
        }
        float[] y = new float[n];
        for (int i = 0; i < plan.length; i++) {
            if (outputs[i].length != segmentSize) {
                throw new IllegalArgumentException("segment outputs differ in length");
            }
            System.arraycopy(outputs[i], 0, y, plan[i][0], plan[i][1] - plan[i][0]);
        }
        if (mode == MergeMode.CROSSFADE && plan.length > 1) {
            int prevStart = plan[plan.length - 2][0];
            int prevStop = plan[plan.length - 2][1];
            int lastStart = plan[plan.length - 1][0];
            int overlap = prevStop - lastStart;
            float[] a = outputs[plan.length - 2];
            float[] b = outputs[plan.length - 1];
            for (int i = 0; i < overlap; i++) {
                double av = a[lastStart - prevStart + i];
                double bv = b[i];
                double w = 0.5 - 0.5 * Math.cos(Math.PI * (i + 0.5) / overlap);
                y[lastStart + i] = (float) (av + w * (bv - av));
            }
        }
        return y;
    }

    private static void checkPlan(int[][] plan, int segmentSize) {
        if (plan.length == 0) {
            throw new IllegalArgumentException("the segment plan is empty");
        }
        for (int[] p : plan) {
            if (p.length != 2 || p[0] < 0 || p[1] <= p[0] || p[1] - p[0] > segmentSize) {
                throw new IllegalArgumentException("invalid segment for size " + segmentSize);
            }
        }
    }
}
