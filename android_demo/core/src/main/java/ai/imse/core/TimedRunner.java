package ai.imse.core;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * A {@link TensorRunner} that times each call of the runner it wraps: the model call alone,
 * without the STFTs around it (what {@code bench/segment_speed.py} times in Python).
 */
public final class TimedRunner implements TensorRunner {

    private final TensorRunner inner;
    private final Benchmark.Clock clock;
    private long lastNanos = -1;

    public TimedRunner(TensorRunner inner, Benchmark.Clock clock) {
        if (inner == null || clock == null) {
            throw new IllegalArgumentException("runner and clock are required");
        }
        this.inner = inner;
        this.clock = clock;
    }

    @Override
    public void run(Map<String, ByteBuffer> inputs, Map<String, ByteBuffer> outputs) {
        long t0 = clock.nanos();
        inner.run(inputs, outputs);
        lastNanos = clock.nanos() - t0;
    }

    /** Nanoseconds the last call took; -1 before the first call. */
    public long lastNanos() {
        return lastNanos;
    }
}
