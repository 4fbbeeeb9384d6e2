package ai.imse.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The I/O contract written beside every exported {@code .tflite} ({@code <name>.json},
 * format {@code imse-tflite-io-contract}, version 1): the front-end numbers and the tensors.
 *
 * <p>Only what the host needs is read; the rest (provenance, op counts) is ignored. The front
 * end this core implements is fixed (periodic Hann, {@code center=True} reflect padding,
 * {@code win_length == n_fft}); a contract asking for anything else is rejected, not guessed.
 */
public final class ModelContract {

    public static final String FORMAT = "imse-tflite-io-contract";
    public static final String[] INPUTS = {"mag_c", "pha"};
    public static final String[] OUTPUTS = {"mask", "phase_r", "phase_i"};

    public final int sampleRate;
    public final int nFft;
    public final int hopLength;
    public final double compressFactor;
    public final int numFreqs;
    public final int segmentSamples;
    public final int segmentFrames;
    /** The model file name the contract was written for (may be empty). */
    public final String modelFile;
    /** The interpreter signature to run, {@code serving_default}. */
    public final String signature;
    /** Export mode, e.g. {@code int8} (informational). */
    public final String mode;
    private final Map<String, TensorSpec> inputs;
    private final Map<String, TensorSpec> outputs;

    public ModelContract(int sampleRate, int nFft, int hopLength, double compressFactor,
            int segmentSamples, Map<String, TensorSpec> inputs, Map<String, TensorSpec> outputs,
            String modelFile, String signature, String mode) {
        if (sampleRate < 1 || nFft < 2 || nFft % 2 != 0 || hopLength < 1 || hopLength > nFft
                || !(compressFactor > 0) || segmentSamples <= nFft / 2) {
            throw new IllegalArgumentException("invalid front end: sample_rate=" + sampleRate
                    + " n_fft=" + nFft + " hop_length=" + hopLength + " compress_factor="
                    + compressFactor + " segment_samples=" + segmentSamples);
        }
        this.sampleRate = sampleRate;
        this.nFft = nFft;
        this.hopLength = hopLength;
        this.compressFactor = compressFactor;
        this.numFreqs = nFft / 2 + 1;
        this.segmentSamples = segmentSamples;
        this.segmentFrames = 1 + segmentSamples / hopLength;
        this.modelFile = modelFile == null ? "" : modelFile;
        this.signature = signature == null ? "serving_default" : signature;
        this.mode = mode == null ? "" : mode;
        this.inputs = Collections.unmodifiableMap(new LinkedHashMap<String, TensorSpec>(inputs));
        this.outputs = Collections.unmodifiableMap(new LinkedHashMap<String, TensorSpec>(outputs));
        int[] want = {1, segmentFrames, numFreqs};
        checkTensors(this.inputs, INPUTS, want, "inputs");
        checkTensors(this.outputs, OUTPUTS, want, "outputs");
    }

    private static void checkTensors(Map<String, TensorSpec> specs, String[] names, int[] want,
            String group) {
        for (String n : names) {
            TensorSpec t = specs.get(n);
            if (t == null) {
                throw new IllegalArgumentException("contract " + group + " lack tensor \"" + n + "\"");
            }
            if (!java.util.Arrays.equals(t.shape(), want)) {
                throw new IllegalArgumentException("tensor " + n + " has shape "
                        + java.util.Arrays.toString(t.shape()) + "; the front end needs "
                        + java.util.Arrays.toString(want) + " [1, T frames, F bins]");
            }
        }
    }

    /** A contract with the official front end and the given I/O type (for tests and tools). */
    public static ModelContract standard(TensorSpec.DType io, double scale, int zeroPoint) {
        int[] shape = {1, 308, 256};
        Map<String, TensorSpec> in = new LinkedHashMap<String, TensorSpec>();
        Map<String, TensorSpec> out = new LinkedHashMap<String, TensorSpec>();
        for (String n : INPUTS) {
            in.put(n, new TensorSpec(n, io, shape, scale, zeroPoint));
        }
        for (String n : OUTPUTS) {
            out.put(n, new TensorSpec(n, io, shape, scale, zeroPoint));
        }
        return new ModelContract(16000, 510, 100, 0.3, 30700, in, out, "", "serving_default",
                io == TensorSpec.DType.INT8 ? "int8" : "float32");
    }

    public TensorSpec input(String name) {
        TensorSpec t = inputs.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no input tensor " + name);
        }
        return t;
    }

    public TensorSpec output(String name) {
        TensorSpec t = outputs.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no output tensor " + name);
        }
        return t;
    }

    public Map<String, TensorSpec> inputs() {
        return inputs;
    }

    public Map<String, TensorSpec> outputs() {
        return outputs;
    }

    /** Reads a contract from UTF-8 JSON. */
    public static ModelContract read(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[8192];
        int n;
        while ((n = in.read(b)) > 0) {
            buf.write(b, 0, n);
        }
        return parse(new String(buf.toByteArray(), Charset.forName("UTF-8")));
    }

    /**
     * Parses contract JSON.
     *
     * @throws IllegalArgumentException (a {@link Json.JsonException} for malformed JSON) when
     *     the text is not a usable contract; the message names the field.
     */
    public static ModelContract parse(String json) {
        Map<String, Object> c = Json.asObject(Json.parse(json), "contract");
        Object format = c.get("format");
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException(
                    "not an IMSE I/O contract: format is " + format + ", expected " + FORMAT);
        }
        int version = Json.asInt(Json.get(c, "version", "contract"), "version");
        if (version != 1) {
            throw new IllegalArgumentException("unsupported contract version " + version);
        }
        Map<String, Object> fe = Json.asObject(Json.get(c, "front_end", "contract"), "front_end");
        int nFft = Json.asInt(Json.get(fe, "n_fft", "front_end"), "front_end.n_fft");
        int win = Json.asInt(Json.get(fe, "win_length", "front_end"), "front_end.win_length");
        if (win != nFft) {
            throw new IllegalArgumentException("win_length " + win + " != n_fft " + nFft
                    + " is not supported");
        }
        if (!Json.asBoolean(Json.get(fe, "center", "front_end"), "front_end.center")
                || !"reflect".equals(Json.get(fe, "pad_mode", "front_end"))) {
            throw new IllegalArgumentException("only center=true with reflect padding is supported");
        }
        String window = Json.asString(Json.get(fe, "window", "front_end"), "front_end.window");
        if (!window.startsWith("hann")) {
            throw new IllegalArgumentException("only the periodic Hann window is supported: " + window);
        }
        int hop = Json.asInt(Json.get(fe, "hop_length", "front_end"), "front_end.hop_length");
        int sr = Json.asInt(Json.get(fe, "sample_rate", "front_end"), "front_end.sample_rate");
        double cf = Json.asNumber(Json.get(fe, "compress_factor", "front_end"),
                "front_end.compress_factor");
        int seg = Json.asInt(Json.get(fe, "segment_samples", "front_end"), "front_end.segment_samples");
        int freqs = Json.asInt(Json.get(fe, "num_freqs", "front_end"), "front_end.num_freqs");
        int frames = Json.asInt(Json.get(fe, "segment_frames", "front_end"), "front_end.segment_frames");
        if (freqs != nFft / 2 + 1 || frames != 1 + seg / hop) {
            throw new IllegalArgumentException("inconsistent front end: num_freqs=" + freqs
                    + " segment_frames=" + frames);
        }
        String file = "";
        String signature = "serving_default";
        if (c.get("model") != null) {
            Map<String, Object> m = Json.asObject(c.get("model"), "model");
            if (m.get("file") != null) {
                file = Json.asString(m.get("file"), "model.file");
            }
            if (m.get("signature") != null) {
                signature = Json.asString(m.get("signature"), "model.signature");
            }
        }
        String mode = c.get("mode") == null ? "" : Json.asString(c.get("mode"), "mode");
        return new ModelContract(sr, nFft, hop, cf, seg, tensors(c, "inputs"), tensors(c, "outputs"),
                file, signature, mode);
    }

    private static Map<String, TensorSpec> tensors(Map<String, Object> c, String group) {
        Map<String, TensorSpec> out = new LinkedHashMap<String, TensorSpec>();
        List<Object> list = Json.asArray(Json.get(c, group, "contract"), group);
        for (Object o : list) {
            Map<String, Object> t = Json.asObject(o, group + "[]");
            String name = Json.asString(Json.get(t, "name", group), group + ".name");
            String what = group + "." + name;
            List<Object> dims = Json.asArray(Json.get(t, "shape", what), what + ".shape");
            int[] shape = new int[dims.size()];
            for (int k = 0; k < shape.length; k++) {
                shape[k] = Json.asInt(dims.get(k), what + ".shape");
            }
            TensorSpec.DType dtype = TensorSpec.DType.fromName(
                    Json.asString(Json.get(t, "dtype", what), what + ".dtype"));
            double scale = 0.0;
            int zp = 0;
            Object q = t.get("quantization");
            if (dtype == TensorSpec.DType.INT8) {
                if (q == null) {
                    throw new IllegalArgumentException(what + ": int8 tensor without quantization");
                }
                Map<String, Object> qm = Json.asObject(q, what + ".quantization");
                scale = Json.asNumber(Json.get(qm, "scale", what), what + ".quantization.scale");
                zp = Json.asInt(Json.get(qm, "zero_point", what), what + ".quantization.zero_point");
            }
            out.put(name, new TensorSpec(name, dtype, shape, scale, zp));
        }
        return out;
    }
}
