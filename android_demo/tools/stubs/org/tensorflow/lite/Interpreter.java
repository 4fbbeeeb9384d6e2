package org.tensorflow.lite;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * COMPILE-ONLY STUB of the LiteRT Java API (com.google.ai.edge.litert:litert), the members the
 * demo uses, with their real signatures. Used by tools/check_android_compile.sh only; never
 * packaged into the app, which gets the real class from the LiteRT AAR.
 */
public final class Interpreter implements AutoCloseable {

    public static class Options {
        public Options setNumThreads(int numThreads) {
            throw new UnsupportedOperationException("stub");
        }
    }

    public Interpreter(ByteBuffer byteBuffer, Options options) {
        throw new UnsupportedOperationException("stub");
    }

    public Tensor getInputTensorFromSignature(String inputName, String signatureKey) {
        throw new UnsupportedOperationException("stub");
    }

    public Tensor getOutputTensorFromSignature(String outputName, String signatureKey) {
        throw new UnsupportedOperationException("stub");
    }

    public void runSignature(Map<String, Object> inputs, Map<String, Object> outputs,
            String signatureKey) {
        throw new UnsupportedOperationException("stub");
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("stub");
    }
}
