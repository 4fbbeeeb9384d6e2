package ai.imse.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.ByteBuffer;
import java.util.Map;
import org.junit.Test;

/** The Benchmark action's arithmetic, with a fake clock whose time only the test moves. */
public class BenchmarkTest {

    /** Each read advances the clock by 1 ms, so every interval is known exactly. */
    static final class FakeClock implements Benchmark.Clock {
        long now;

        @Override
        public long nanos() {
            long t = now;
            now += 1000000L;
            return t;
        }
    }

    /** The identity model of EnhancerTest that also "takes" a scripted number of ms per call. */
    static final class SlowRunner implements TensorRunner {
        final TensorRunner identity = new EnhancerTest.IdentityRunner();
        final FakeClock clock;
        final long[] ms;
        int call;

        SlowRunner(FakeClock clock, long... ms) {
            this.clock = clock;
            this.ms = ms;
        }

        @Override
        public void run(Map<String, ByteBuffer> inputs, Map<String, ByteBuffer> outputs) {
            identity.run(inputs, outputs);
            clock.now += ms[call++] * 1000000L;
        }
    }

    @Test
    public void mediansOfTimedRunsAfterWarmup() {
        FakeClock clock = new FakeClock();
        // warm-up call takes 1000 ms and must not count; then 9, 5, 100, 7, 6 ms.
        SlowRunner slow = new SlowRunner(clock, 1000, 9, 5, 100, 7, 6);
        TimedRunner timed = new TimedRunner(slow, clock);
        ModelContract c = ModelContract.standard(TensorSpec.DType.FLOAT32, 0, 0);
        Enhancer e = new Enhancer(c, timed, Segments.MergeMode.CROSSFADE);
        float[] seg = Benchmark.testSegment(c.segmentSamples, c.sampleRate);

        Benchmark.Result r = Benchmark.measure("m.tflite", 2, e, timed, seg, 1, 5, clock);

        assertEquals(6, slow.call);
        // Per call the clock is read 4 times (segment start, model start, model end, segment
        // end), 1 ms each: model = x + 1 ms, segment = x + 3 ms.
        assertEquals(8.0, r.modelMs, 0.0); // median of 10, 6, 101, 8, 7
        assertEquals(10.0, r.segmentMs, 0.0); // median of 12, 8, 103, 10, 9
        assertEquals(8.0, r.minSegmentMs, 0.0);
        assertEquals(1000.0 * 30700 / 16000, r.audioMs, 1e-9);
        assertEquals(10.0 / 1918.75, r.rtf(), 1e-12);
        assertEquals(5, r.runs);
        assertTrue(r.row(), r.row().matches("m\\.tflite +2 +10\\.0 +8\\.0 +0\\.005"));
        assertEquals(Benchmark.HEADER.length(), r.row().length());
    }

    @Test
    public void realClockOnIdentityModel() {
        ModelContract c = ModelContract.standard(TensorSpec.DType.FLOAT32, 0, 0);
        TimedRunner timed = new TimedRunner(new EnhancerTest.IdentityRunner(), Benchmark.SYSTEM_CLOCK);
        Enhancer e = new Enhancer(c, timed, null);
        float[] seg = Benchmark.testSegment(c.segmentSamples, c.sampleRate);
        Benchmark.Result r = Benchmark.measure("x", 1, e, timed, seg, 0, 3, Benchmark.SYSTEM_CLOCK);
        assertTrue(r.segmentMs > 0 && r.modelMs >= 0 && r.modelMs <= r.segmentMs + 1e-9);
        assertTrue(r.minSegmentMs <= r.segmentMs);
    }

    @Test
    public void rejectsNoRuns() {
        ModelContract c = ModelContract.standard(TensorSpec.DType.FLOAT32, 0, 0);
        TimedRunner timed = new TimedRunner(new EnhancerTest.IdentityRunner(), Benchmark.SYSTEM_CLOCK);
        Enhancer e = new Enhancer(c, timed, null);
        try {
            Benchmark.measure("x", 1, e, timed, new float[c.segmentSamples], 0, 0, Benchmark.SYSTEM_CLOCK);
            fail("runs = 0 accepted");
        } catch (IllegalArgumentException expected) {
            // ok
        }
    }

    @Test
    public void median() {
        assertEquals(3.0, Benchmark.median(new double[] {5, 1, 3}), 0.0);
        assertEquals(2.5, Benchmark.median(new double[] {4, 1, 3, 2}), 0.0);
        assertEquals(7.0, Benchmark.median(new double[] {7}), 0.0);
    }

    @Test
    public void threadCounts() {
        assertArrayEquals(new int[] {1}, Benchmark.threadCounts(0));
        assertArrayEquals(new int[] {1}, Benchmark.threadCounts(1));
        assertArrayEquals(new int[] {1, 2}, Benchmark.threadCounts(3));
        assertArrayEquals(new int[] {1, 2, 4}, Benchmark.threadCounts(6));
        assertArrayEquals(new int[] {1, 2, 4, 8}, Benchmark.threadCounts(8));
        assertArrayEquals(new int[] {1, 2, 4, 8}, Benchmark.threadCounts(12));
    }

    @Test
    public void testSegmentIsFixedAndInRange() {
        float[] a = Benchmark.testSegment(30700, 16000);
        float[] b = Benchmark.testSegment(30700, 16000);
        assertArrayEquals(a, b, 0f);
        double ss = 0;
        for (float v : a) {
            assertTrue(Math.abs(v) < 1f);
            ss += v * v;
        }
        double rms = Math.sqrt(ss / a.length);
        assertTrue("rms " + rms, rms > 0.03 && rms < 0.3);
    }
}
