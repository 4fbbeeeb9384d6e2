package ai.imse.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;
import org.junit.Test;

/** The pipeline around a fake float-I/O model that passes its input through. */
public class EnhancerTest {

    /** mask = 1, (phase_r, phase_i) = (cos, sin)(pha): the enhancer must return its input. */
    static final class IdentityRunner implements TensorRunner {
        int calls;

        @Override
        public void run(Map<String, ByteBuffer> inputs, Map<String, ByteBuffer> outputs) {
            ByteBuffer pha = inputs.get("pha");
            ByteBuffer mask = outputs.get("mask");
            ByteBuffer re = outputs.get("phase_r");
            ByteBuffer im = outputs.get("phase_i");
            int n = pha.limit() / 4;
            for (int i = 0; i < n; i++) {
                double p = pha.getFloat(4 * i);
                mask.putFloat(4 * i, 1f);
                re.putFloat(4 * i, (float) (3 * Math.cos(p))); // any positive scale
                im.putFloat(4 * i, (float) (3 * Math.sin(p)));
            }
            calls++;
        }
    }

    private static float[] noise(int n, long seed, double amp) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (amp * r.nextGaussian());
        }
        return x;
    }

    private final ModelContract floatIo = ModelContract.standard(TensorSpec.DType.FLOAT32, 0, 0);

    @Test
    public void floatIoIdentityReturnsTheInput() {
        for (int n : new int[] {100, 30700, 40000}) {
            IdentityRunner r = new IdentityRunner();
            Enhancer e = new Enhancer(floatIo, r, Segments.MergeMode.CROSSFADE);
            float[] x = noise(n, n, 0.1);
            float[] y = e.enhanceWaveform(x, null);
            assertEquals(n, y.length);
            assertEquals(e.segmentsFor(n), r.calls);
            double d = Fixtures.maxAbsDiff(x, y);
            assertTrue(n + " samples: identity model changed the waveform by " + d, d < 1e-5);
        }
    }

    @Test
    public void otherRatesAreResampledBack() {
        IdentityRunner r = new IdentityRunner();
        Enhancer e = new Enhancer(floatIo, r, Segments.MergeMode.OFFICIAL);
        float[] x = new float[48000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * i / 48000.0));
        }
        float[] y = e.enhance(x, 48000, null);
        assertEquals(x.length, y.length);
        for (int i = 500; i < x.length - 500; i++) {
            assertEquals(x[i], y[i], 2e-3);
        }
        assertEquals(1, r.calls); // 1 s at 16 kHz: one segment
    }

    @Test
    public void emptyInputIsAClearError() {
        Enhancer e = new Enhancer(floatIo, new IdentityRunner(), null);
        try {
            e.enhanceWaveform(new float[0], null);
            fail();
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("empty"));
        }
        try {
            e.enhance(new float[0], 44100, null);
            fail();
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("empty"));
        }
    }

    @Test
    public void silenceStaysSilent() {
        Enhancer e = new Enhancer(floatIo, new IdentityRunner(), null);
        float[] y = e.enhanceWaveform(new float[5000], null);
        for (float v : y) {
            assertEquals(0f, v, 0f);
        }
    }

    @Test
    public void int8BuffersAreSizedAndQuantized() {
        ModelContract q = ModelContract.standard(TensorSpec.DType.INT8, 0.05, 3);
        final int[] seen = new int[1];
        TensorRunner r = new TensorRunner() {
            @Override
            public void run(Map<String, ByteBuffer> inputs, Map<String, ByteBuffer> outputs) {
                assertEquals(308 * 256, inputs.get("mag_c").limit());
                assertEquals(308 * 256, outputs.get("mask").capacity());
                // mag_c >= 0, so its quantized values are >= the zero point
                for (int i = 0; i < 308 * 256; i++) {
                    assertTrue(inputs.get("mag_c").get(i) >= 3);
                    outputs.get("mask").put(i, (byte) 23);     // (23 - 3) * 0.05 = 1.0
                    outputs.get("phase_r").put(i, (byte) 23);  // 1.0
                    outputs.get("phase_i").put(i, (byte) 3);   // 0.0
                }
                seen[0]++;
            }
        };
        float[] y = new Enhancer(q, r, null).enhanceWaveform(noise(1000, 1, 0.1), null);
        assertEquals(1, seen[0]);
        assertEquals(1000, y.length);
    }
}
