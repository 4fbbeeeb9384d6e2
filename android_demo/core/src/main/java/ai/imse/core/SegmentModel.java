package ai.imse.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The host side of one model call, as {@code imse_keras.export.runner.LiteRTModel.spectral}:
 * packs {@code mag_c} and {@code pha} into the input tensors (int8: quantized with the
 * contract's scale and zero point, round half away from zero), runs the {@link TensorRunner},
 * unpacks the outputs (int8: dequantized) and forms
 * {@code mag_c_out = mag_c * mask} and {@code pha_out = atan2(phase_i, phase_r)}, in float32.
 *
 * <p>All arrays are frames-first {@code [T * F]}. The tensor buffers are allocated once
 * (direct, native byte order) and reused, so an instance is not thread-safe.
 */
public final class SegmentModel {

    private final ModelContract contract;
    private final TensorRunner runner;
    private final Map<String, ByteBuffer> inputs = new LinkedHashMap<String, ByteBuffer>();
    private final Map<String, ByteBuffer> outputs = new LinkedHashMap<String, ByteBuffer>();
    private final int count;

    public SegmentModel(ModelContract contract, TensorRunner runner) {
        if (contract == null || runner == null) {
            throw new IllegalArgumentException("contract and runner are required");
        }
        this.contract = contract;
        this.runner = runner;
        this.count = contract.segmentFrames * contract.numFreqs;
        for (String n : ModelContract.INPUTS) {
            inputs.put(n, allocate(contract.input(n)));
        }
        for (String n : ModelContract.OUTPUTS) {
            outputs.put(n, allocate(contract.output(n)));
        }
    }

    private static ByteBuffer allocate(TensorSpec t) {
        return ByteBuffer.allocateDirect(t.numBytes()).order(ByteOrder.nativeOrder());
    }

    /** Elements per tensor, {@code T * F}. */
    public int size() {
        return count;
    }

    /** Runs one segment. {@code magOut} is not clamped at zero (the caller does that). */
    public void run(float[] magC, float[] pha, float[] magOut, float[] phaOut) {
        if (magC.length < count || pha.length < count || magOut.length < count
                || phaOut.length < count) {
            throw new IllegalArgumentException("arrays must hold T * F = " + count + " values");
        }
        pack(contract.input("mag_c"), magC, inputs.get("mag_c"));
        pack(contract.input("pha"), pha, inputs.get("pha"));
        for (ByteBuffer b : outputs.values()) {
            b.clear();
        }
        runner.run(inputs, outputs);
        TensorSpec mask = contract.output("mask");
        TensorSpec pr = contract.output("phase_r");
        TensorSpec pi = contract.output("phase_i");
        ByteBuffer mb = outputs.get("mask");
        ByteBuffer rb = outputs.get("phase_r");
        ByteBuffer ib = outputs.get("phase_i");
        for (int i = 0; i < count; i++) {
            magOut[i] = magC[i] * value(mask, mb, i);
            phaOut[i] = (float) Math.atan2(value(pi, ib, i), value(pr, rb, i));
        }
    }

    private void pack(TensorSpec t, float[] x, ByteBuffer b) {
        b.clear();
        if (t.dtype == TensorSpec.DType.INT8) {
            for (int i = 0; i < count; i++) {
                b.put(Quant.quantize(x[i], t.scale, t.zeroPoint));
            }
        } else {
            for (int i = 0; i < count; i++) {
                b.putFloat(x[i]);
            }
        }
        b.rewind();
    }

    private static float value(TensorSpec t, ByteBuffer b, int i) {
        if (t.dtype == TensorSpec.DType.INT8) {
            return Quant.dequantize(b.get(i), t.scale, t.zeroPoint);
        }
        return b.getFloat(i * 4);
    }
}
