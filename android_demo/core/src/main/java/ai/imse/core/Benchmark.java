package ai.imse.core;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * The app's Benchmark action: how long one segment takes on this device, for one model at one
 * thread count, and the real-time factor that follows.
 *
 * <p>One segment is {@code segment_samples} samples (1.92 s at 16 kHz). Each timed call is a
 * full {@link Enhancer#enhanceSegment}: STFT, packing (and int8 quantization), the model call,
 * unpacking and the inverse STFT. The model call alone is timed as well, through a
 * {@link TimedRunner} that the enhancer must have been built on. After {@code warmup} untimed
 * calls, {@code runs} calls are timed and their medians reported. The real-time factor is
 * segment time / segment duration: below 1 is faster than real time. A file of several
 * segments costs about that factor times its length (the last segment overlaps the one before
 * it, so slightly more).
 */
public final class Benchmark {

    /** A monotonic clock in nanoseconds (System.nanoTime on the device; a fake in tests). */
    public interface Clock {
        long nanos();
    }

    public static final Clock SYSTEM_CLOCK = new Clock() {
        @Override
        public long nanos() {
            return System.nanoTime();
        }
    };

    /** The timings of one model at one thread count. */
    public static final class Result {
        public final String model;
        public final int threads;
        public final int runs;
        /** Median milliseconds of one full segment (STFT + model + inverse STFT). */
        public final double segmentMs;
        /** Median milliseconds of the model call alone. */
        public final double modelMs;
        /** Fastest full segment, milliseconds. */
        public final double minSegmentMs;
        /** The segment's duration, milliseconds of audio. */
        public final double audioMs;

        Result(String model, int threads, int runs, double segmentMs, double modelMs,
                double minSegmentMs, double audioMs) {
            this.model = model;
            this.threads = threads;
            this.runs = runs;
            this.segmentMs = segmentMs;
            this.modelMs = modelMs;
            this.minSegmentMs = minSegmentMs;
            this.audioMs = audioMs;
        }

        /** Processing time / audio time of one segment; below 1 is faster than real time. */
        public double rtf() {
            return segmentMs / audioMs;
        }

        /** One line of the table under {@link #HEADER}. */
        public String row() {
            return String.format(Locale.US, "%-22s %7d %10.1f %9.1f %7.3f",
                    model, threads, segmentMs, modelMs, rtf());
        }
    }

    /** Column titles of {@link Result#row()}. */
    public static final String HEADER = String.format(Locale.US, "%-22s %7s %10s %9s %7s",
            "model", "threads", "segment ms", "model ms", "RTF");

    private Benchmark() {}

    /**
     * Times {@code enhancer.enhanceSegment(segment)}.
     *
     * @param timer the runner {@code enhancer} calls; it times the model call alone
     * @throws IllegalArgumentException for {@code runs < 1} or {@code warmup < 0}
     */
    public static Result measure(String model, int threads, Enhancer enhancer, TimedRunner timer,
            float[] segment, int warmup, int runs, Clock clock) {
        if (runs < 1 || warmup < 0) {
            throw new IllegalArgumentException("need runs >= 1 and warmup >= 0");
        }
        for (int i = 0; i < warmup; i++) {
            enhancer.enhanceSegment(segment);
        }
        double[] seg = new double[runs];
        double[] net = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = clock.nanos();
            enhancer.enhanceSegment(segment);
            seg[i] = (clock.nanos() - t0) / 1e6;
            net[i] = timer.lastNanos() / 1e6;
        }
        ModelContract c = enhancer.contract();
        double audioMs = 1000.0 * c.segmentSamples / c.sampleRate;
        double[] sorted = seg.clone();
        Arrays.sort(sorted);
        return new Result(model, threads, runs, median(seg), median(net), sorted[0], audioMs);
    }

    /** Median; the mean of the two middle values for an even count. */
    public static double median(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("median of nothing");
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
    }

    /** Thread counts to time on a device with {@code cores} cores: 1, 2, 4, 8, up to cores. */
    public static int[] threadCounts(int cores) {
        int n = 1;
        while (n < 4 && (2 << (n - 1)) <= Math.min(cores, 8)) {
            n++;
        }
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 1 << i;
        }
        return t;
    }

    /**
     * A fixed test segment: a harmonic tone with a slow amplitude envelope plus white noise,
     * RMS about 0.1, seeded. Model speed does not depend on the content; this keeps runs
     * comparable across devices.
     */
    public static float[] testSegment(int samples, int sampleRate) {
        Random r = new Random(20260301L);
        float[] x = new float[samples];
        double f0 = 140.0;
        for (int i = 0; i < samples; i++) {
            double t = i / (double) sampleRate;
            double env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4.0 * t);
            double v = 0;
            for (int h = 1; h <= 10; h++) {
                v += Math.sin(2 * Math.PI * f0 * h * t) / h;
            }
            x[i] = (float) (0.08 * env * v + 0.03 * r.nextGaussian());
        }
        return x;
    }
}
