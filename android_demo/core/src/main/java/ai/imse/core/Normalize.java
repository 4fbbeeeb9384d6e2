package ai.imse.core;

/** Per-utterance RMS normalisation, as {@code imse_keras.dsp.normalize.rms_normalize}. */
public final class Normalize {

    private Normalize() {
    }

    /**
     * Writes {@code x * norm} (unit RMS, float32) into {@code out} and returns
     * {@code norm = sqrt(n / sum(x^2))}, computed in double. Digital silence is copied unchanged
     * with {@code norm = 1}.
     *
     * @throws IllegalArgumentException for an empty waveform or a NaN/infinite sample.
     */
    public static double rms(float[] x, float[] out) {
        if (x.length == 0) {
            throw new IllegalArgumentException("empty waveform (0 samples)");
        }
        if (out.length < x.length) {
            throw new IllegalArgumentException("output shorter than input");
        }
        double energy = 0.0;
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("non-finite sample at index " + i);
            }
            energy += v * v;
        }
        if (energy == 0.0) {
            System.arraycopy(x, 0, out, 0, x.length);
            return 1.0;
        }
        double norm = Math.sqrt(x.length / energy);
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) (x[i] * norm);
        }
        return norm;
    }
}
