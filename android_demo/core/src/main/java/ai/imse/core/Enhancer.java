package ai.imse.core;

/**
 * The whole signal path of {@code imse_keras.enhance.Enhancer} around a {@link TensorRunner}:
 * RMS normalisation, segmentation into {@code segment_samples} pieces, per segment the STFT,
 * compression, the model call and the inverse, reassembly, de-normalisation; and, for audio
 * at another rate, resampling to the model's rate and back ({@link Resampler}).
 *
 * <p>Not thread-safe (the model's buffers are reused); use one instance per worker thread.
 */
public final class Enhancer {

    /** Called after each segment; {@code done} runs from 1 to {@code total}. */
    public interface Progress {
        void onProgress(int done, int total);
    }

    private final ModelContract contract;
    private final SegmentModel model;
    private final Stft stft;
    private final Segments.MergeMode mode;

    public Enhancer(ModelContract contract, TensorRunner runner, Segments.MergeMode mode) {
        this.contract = contract;
        this.model = new SegmentModel(contract, runner);
        this.stft = new Stft(contract.nFft, contract.hopLength);
        this.mode = mode == null ? Segments.MergeMode.CROSSFADE : mode;
        if (stft.numFrames(contract.segmentSamples) != contract.segmentFrames) {
            throw new IllegalArgumentException("segment_samples and segment_frames disagree");
        }
    }

    public ModelContract contract() {
        return contract;
    }

    /** Enhances one normalised segment of exactly {@code segment_samples} samples. */
    public float[] enhanceSegment(float[] segment) {
        final int s = contract.segmentSamples;
        if (segment.length != s) {
            throw new IllegalArgumentException("a segment has " + s + " samples, got " + segment.length);
        }
        final int count = model.size();
        float[] mag = new float[count];
        float[] pha = new float[count];
        stft.magPha(segment, 0, s, contract.compressFactor, mag, pha);
        float[] magOut = new float[count];
        float[] phaOut = new float[count];
        model.run(mag, pha, magOut, phaOut);
        for (int i = 0; i < count; i++) {
            if (magOut[i] < 0f) {
                magOut[i] = 0f; // np.maximum(mag_out, 0.0)
            }
        }
        return stft.magPhaInverse(magOut, phaOut, contract.segmentFrames, contract.compressFactor, s);
    }

    /**
     * Enhances a mono waveform at the model's rate; returns the same number of samples.
     *
     * @throws IllegalArgumentException for an empty waveform or NaN/infinite samples.
     */
    public float[] enhanceWaveform(float[] x, Progress progress) {
        if (x == null || x.length == 0) {
            throw new IllegalArgumentException("nothing to enhance: the waveform is empty");
        }
        final int s = contract.segmentSamples;
        float[] xn = new float[x.length];
        double norm = Normalize.rms(x, xn);
        int[][] plan = Segments.plan(xn.length, s);
        float[][] segments = Segments.split(xn, plan, s);
        float[][] outputs = new float[segments.length][];
        for (int i = 0; i < segments.length; i++) {
            outputs[i] = enhanceSegment(segments[i]);
            if (progress != null) {
                progress.onProgress(i + 1, segments.length);
            }
        }
        float[] y = Segments.merge(outputs, plan, xn.length, mode);
        float fnorm = (float) norm; // numpy: float32 array / Python float -> float32 division
        for (int i = 0; i < y.length; i++) {
            y[i] = y[i] / fnorm;
        }
        return y;
    }

    /** Enhances mono audio at any rate: resampled to the model's rate and back. */
    public float[] enhance(float[] x, int sampleRate, Progress progress) {
        if (x == null || x.length == 0) {
            throw new IllegalArgumentException("nothing to enhance: the recording is empty");
        }
        final int sr = contract.sampleRate;
        float[] m = Resampler.resample(x, sampleRate, sr);
        if (m.length == 0) {
            m = new float[1];
        }
        float[] y = Resampler.resample(enhanceWaveform(m, progress), sr, sampleRate);
        float[] out = new float[x.length];
        System.arraycopy(y, 0, out, 0, Math.min(y.length, out.length));
        return out;
    }

    /** Segments a waveform of {@code samples} at the model's rate will take. */
    public int segmentsFor(int samples) {
        return Segments.plan(Math.max(1, samples), contract.segmentSamples).length;
    }
}
