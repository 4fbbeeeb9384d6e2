package ai.imse.core;

/**
 * int8 affine quantization exactly as TFLite and {@code imse_keras.export.runner} do it.
 *
 * <ul>
 *   <li>quantize: {@code q = clip(round_half_away_from_zero(x / scale) + zeroPoint, -128, 127)},
 *       with {@code x / scale} in double precision ({@link Math#round} would round ties up,
 *       {@code -2.5 -> -2}; numpy's {@code round} rounds ties to even; neither is right);</li>
 *   <li>dequantize: {@code (q - zeroPoint) * scale} in float32 arithmetic.</li>
 * </ul>
 */
public final class Quant {

    private Quant() {
    }

    /** Round to nearest, ties away from zero (C's {@code round}). */
    public static double roundHalfAway(double v) {
        return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
    }

    public static byte quantize(float x, double scale, int zeroPoint) {
        double q = roundHalfAway(x / scale) + zeroPoint;
        if (q < -128) {
            q = -128;
        } else if (q > 127) {
            q = 127;
        } else if (Double.isNaN(q)) {
            q = zeroPoint; // NaN has no int8 value; TFLite's result is undefined, pick 0.0
        }
        return (byte) q;
    }

    public static float dequantize(byte q, double scale, int zeroPoint) {
        return ((float) q - (float) zeroPoint) * (float) scale;
    }
}
