package org.tensorflow.lite;

/** COMPILE-ONLY STUB (see Interpreter). */
public interface Tensor {

    final class QuantizationParams {
        public QuantizationParams(float scale, int zeroPoint) {
            throw new UnsupportedOperationException("stub");
        }

        public float getScale() {
            throw new UnsupportedOperationException("stub");
        }

        public int getZeroPoint() {
            throw new UnsupportedOperationException("stub");
        }
    }

    DataType dataType();

    int numBytes();

    QuantizationParams quantizationParams();
}
