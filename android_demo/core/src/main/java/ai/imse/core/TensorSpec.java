package ai.imse.core;

import java.util.Arrays;

/**
 * One model input or output tensor as the I/O contract describes it: name, shape, element
 * type, and for int8 the affine quantization ({@code real = scale * (q - zeroPoint)}).
 */
public final class TensorSpec {

    /** Element types an IMSE export uses at its inputs and outputs. */
    public enum DType {
        FLOAT32(4),
        INT8(1);

        /** Bytes per element. */
        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        /** From the contract's dtype name ({@code "float32"} or {@code "int8"}). */
        public static DType fromName(String name) {
            if ("float32".equals(name)) {
                return FLOAT32;
            }
            if ("int8".equals(name)) {
                return INT8;
            }
            throw new IllegalArgumentException(
                    "unsupported tensor dtype \"" + name + "\" (expected float32 or int8)");
        }
    }

    public final String name;
    public final DType dtype;
    private final int[] shape;
    /** Quantization scale; 0 for float tensors. */
    public final double scale;
    /** Quantization zero point; 0 for float tensors. */
    public final int zeroPoint;

    public TensorSpec(String name, DType dtype, int[] shape, double scale, int zeroPoint) {
        if (name == null || dtype == null || shape == null) {
            throw new IllegalArgumentException("name, dtype and shape are required");
        }
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException(
                        "tensor " + name + ": non-positive dimension in " + Arrays.toString(shape));
            }
        }
        if (dtype == DType.INT8) {
            if (!(scale > 0) || Double.isInfinite(scale)) {
                throw new IllegalArgumentException(
                        "int8 tensor " + name + " needs a positive quantization scale, got " + scale);
            }
            if (zeroPoint < -128 || zeroPoint > 127) {
                throw new IllegalArgumentException(
                        "int8 tensor " + name + ": zero point " + zeroPoint + " outside [-128, 127]");
            }
        }
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.scale = dtype == DType.INT8 ? scale : 0.0;
        this.zeroPoint = dtype == DType.INT8 ? zeroPoint : 0;
    }

    /** A float32 tensor. */
    public static TensorSpec float32(String name, int[] shape) {
        return new TensorSpec(name, DType.FLOAT32, shape, 0.0, 0);
    }

    /** An int8 tensor. */
    public static TensorSpec int8(String name, int[] shape, double scale, int zeroPoint) {
        return new TensorSpec(name, DType.INT8, shape, scale, zeroPoint);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int numElements() {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    public int numBytes() {
        return numElements() * dtype.bytes;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape)
                + (dtype == DType.INT8 ? " scale=" + scale + " zp=" + zeroPoint : "");
    }
}
