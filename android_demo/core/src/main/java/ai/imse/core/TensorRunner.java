package ai.imse.core;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The model, as the core sees it: one call of the exported graph's signature.
 *
 * <p>{@code inputs} maps the signature's input names ({@code mag_c}, {@code pha}) to buffers
 * holding one {@code [1, T, F]} tensor each, already in the tensor's type (float32 or int8,
 * native byte order, position 0, limit = the tensor's byte size). The runner must fill each
 * buffer of {@code outputs} ({@code mask}, {@code phase_r}, {@code phase_i}) with the raw output
 * tensor of that name, as the interpreter produces it (int8 outputs not yet dequantized).
 * Buffer positions on return do not matter.
 *
 * <p>On Android one class implements this with {@code org.tensorflow.lite.Interpreter}'s
 * {@code runSignature}; in the JVM tests, fakes and a record/replay runner do.
 */
public interface TensorRunner {
    void run(Map<String, ByteBuffer> inputs, Map<String, ByteBuffer> outputs);
}
