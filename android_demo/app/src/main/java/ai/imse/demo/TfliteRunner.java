package ai.imse.demo;

import ai.imse.core.ModelContract;
import ai.imse.core.TensorRunner;
import ai.imse.core.TensorSpec;
import java.io.Closeable;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;

/**
 * The only class of the demo that touches LiteRT: runs the exported graph's signature with
 * {@link Interpreter#runSignature}. Everything around it (STFT, quantization, segmentation)
 * is in the plain-Java {@code :core} module.
 */
final class TfliteRunner implements TensorRunner, Closeable {

    private final Interpreter interpreter;
    private final String signature;

    /**
     * @param model the {@code .tflite}, memory-mapped (stored uncompressed in the APK)
     * @param contract its I/O contract; the interpreter's tensors are checked against it
     */
    TfliteRunner(ByteBuffer model, ModelContract contract, int threads) {
        Interpreter.Options options = new Interpreter.Options();
        options.setNumThreads(threads);
        interpreter = new Interpreter(model, options);
        signature = contract.signature;
        try {
            for (String name : ModelContract.INPUTS) {
                check(interpreter.getInputTensorFromSignature(name, signature), contract.input(name));
            }
            for (String name : ModelContract.OUTPUTS) {
                check(interpreter.getOutputTensorFromSignature(name, signature), contract.output(name));
            }
        } catch (RuntimeException e) {
            interpreter.close();
            throw e;
        }
    }

    /** The model file and its contract must agree on type, size and quantization. */
    private static void check(Tensor tensor, TensorSpec spec) {
        DataType want = spec.dtype == TensorSpec.DType.INT8 ? DataType.INT8 : DataType.FLOAT32;
        if (tensor.dataType() != want) {
            throw new IllegalStateException("tensor " + spec.name + " is " + tensor.dataType()
                    + " in the model but " + spec.dtype + " in the contract");
        }
        if (tensor.numBytes() != spec.numBytes()) {
            throw new IllegalStateException("tensor " + spec.name + " has " + tensor.numBytes()
                    + " bytes in the model, " + spec.numBytes() + " in the contract");
        }
        if (spec.dtype == TensorSpec.DType.INT8) {
            Tensor.QuantizationParams q = tensor.quantizationParams();
            if (Math.abs(q.getScale() - spec.scale) > 1e-6 * spec.scale
                    || q.getZeroPoint() != spec.zeroPoint) {
                throw new IllegalStateException("tensor " + spec.name + ": the model's scale "
                        + q.getScale() + " / zero point " + q.getZeroPoint()
                        + " differ from the contract's " + spec.scale + " / " + spec.zeroPoint);
            }
        }
    }

    @Override
    public void run(Map<String, ByteBuffer> inputs, Map<String, ByteBuffer> outputs) {
        Map<String, Object> in = new HashMap<String, Object>(inputs);
        Map<String, Object> out = new HashMap<String, Object>(outputs);
        interpreter.runSignature(in, out, signature);
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
