package ai.imse.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * Record/replay: Python ran the real int8 {@code .tflite} under {@code ai_edge_litert} on
 * {@code replay/input.wav} and recorded each call's input and output tensors and the final
 * waveform. Here the Java pipeline processes the same WAV; the replaying runner checks the
 * tensors Java feeds against the recorded ones and answers with the recorded outputs, so the
 * Java waveform must equal Python's.
 */
public class ReplayTest {

    static final class ReplayRunner implements TensorRunner {
        final ModelContract contract;
        final int segments;
        int calls;
        int maxLsb;          // int8: largest |q_java - q_python|
        long differing;      // int8: values off by one LSB (rounding ties)
        double maxFloat;     // float32 I/O: largest |x_java - x_python|

        ReplayRunner(ModelContract contract, int segments) {
            this.contract = contract;
            this.segments = segments;
        }

        @Override
        public void run(Map<String, ByteBuffer> inputs, Map<String, ByteBuffer> outputs) {
            if (calls >= segments) {
                throw new AssertionError("more model calls than recorded segments");
            }
            try {
                for (String name : ModelContract.INPUTS) {
                    check(contract.input(name), inputs.get(name), Fixtures.bytes(file(name)));
                }
                for (String name : ModelContract.OUTPUTS) {
                    byte[] rec = Fixtures.bytes(file(name));
                    ByteBuffer out = outputs.get(name);
                    assertEquals(contract.output(name).numBytes(), rec.length);
                    assertEquals(rec.length, out.capacity());
                    for (int i = 0; i < rec.length; i++) {
                        out.put(i, rec[i]);
                    }
                }
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            calls++;
        }

        private String file(String name) {
            return "replay/seg" + calls + "_" + name + ".i8";
        }

        private void check(TensorSpec t, ByteBuffer got, byte[] want) {
            assertEquals(t.name + " bytes", want.length, got.limit());
            if (t.dtype == TensorSpec.DType.INT8) {
                for (int i = 0; i < want.length; i++) {
                    int d = Math.abs(got.get(i) - want[i]);
                    if (d > 0) {
                        differing++;
                    }
                    maxLsb = Math.max(maxLsb, d);
                }
                assertTrue("segment " + calls + " " + t.name + ": off by " + maxLsb + " LSB",
                        maxLsb <= 1);
            } else {
                ByteBuffer w = ByteBuffer.wrap(want).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < want.length / 4; i++) {
                    maxFloat = Math.max(maxFloat, Math.abs(got.getFloat(4 * i) - w.getFloat(4 * i)));
                }
                assertTrue(t.name + " differs by " + maxFloat, maxFloat <= 1e-4);
            }
        }
    }

    @Test
    public void javaPipelineReproducesPython() throws Exception {
        Map<String, Object> m = Fixtures.json("replay/manifest.json");
        ModelContract contract = ModelContract.parse(Fixtures.text("replay/contract.json"));
        int segments = Fixtures.integer(m, "segments");
        Wav.Audio audio = Wav.read(Fixtures.bytes("replay/" + Json.asString(m.get("wav"), "wav")));
        assertEquals(Fixtures.integer(m, "samples"), audio.samples.length);
        assertEquals(contract.sampleRate, audio.sampleRate);

        List<Object> plan = Fixtures.list(m, "plan");
        int[][] javaPlan = Segments.plan(audio.samples.length, contract.segmentSamples);
        assertEquals(plan.size(), javaPlan.length);
        assertEquals(segments, javaPlan.length);

        ReplayRunner runner = new ReplayRunner(contract, segments);
        Enhancer enhancer = new Enhancer(contract, runner, Segments.MergeMode.CROSSFADE);
        final int[] progress = new int[2];
        float[] y = enhancer.enhanceWaveform(audio.samples, new Enhancer.Progress() {
            @Override
            public void onProgress(int done, int total) {
                progress[0] = done;
                progress[1] = total;
            }
        });
        assertEquals(segments, runner.calls);
        assertEquals(segments, progress[0]);
        assertEquals(segments, progress[1]);

        float[] py = Fixtures.f32("replay/enhanced.f32");
        double d = Fixtures.maxAbsDiff(y, py);
        double peak = 0;
        for (float v : py) {
            peak = Math.max(peak, Math.abs(v));
        }
        System.out.printf("  replay: %d segments, int8 inputs max %d LSB off (%d of %d values),"
                + " waveform max|dy| = %.2e (peak %.3f)%n", runner.calls, runner.maxLsb,
                runner.differing, 2L * segments * contract.input("mag_c").numElements(), d, peak);
        assertTrue("enhanced waveform differs by " + d, d <= 1e-5);
    }
}
