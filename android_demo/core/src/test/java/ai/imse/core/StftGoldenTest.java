package ai.imse.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Map;
import org.junit.Test;

/** The Java STFT/iSTFT against {@code imse_keras.dsp.stft} (golden vectors from Python). */
public class StftGoldenTest {

    static final double STFT_TOL = 1e-4;
    static final double WAVE_TOL = 1e-5;
    private final Stft stft = new Stft(510, 100);

    private void checkWave(String name) throws Exception {
        Map<String, Object> info = Fixtures.obj(Fixtures.json("golden/manifest.json"), name);
        float[] x = Fixtures.f32("golden/" + name + ".f32");
        int frames = Fixtures.integer(info, "frames");
        assertEquals(Fixtures.integer(info, "samples"), x.length);
        assertEquals(frames, stft.numFrames(x.length));
        float[] mag = new float[frames * 256];
        float[] pha = new float[frames * 256];
        stft.magPha(x, 0, x.length, 0.3, mag, pha);
        float[] pyMag = Fixtures.f32("golden/" + name + "_mag_c.f32");
        float[] pyPha = Fixtures.f32("golden/" + name + "_pha.f32");
        double dm = Fixtures.maxAbsDiff(mag, pyMag);
        double dp = Fixtures.maxPhaseDiff(pha, pyPha);
        System.out.printf("  %s: STFT max|dmag_c| = %.2e, max|dpha| (wrapped) = %.2e%n", name, dm, dp);
        assertTrue("mag_c differs by " + dm, dm <= STFT_TOL);
        assertTrue("pha differs by " + dp, dp <= STFT_TOL);

        // Reflection-centred frames are exactly real: phase exactly 0 or +pi, as in Python.
        boolean lastReal = (x.length - 1) % 100 == 0;
        for (int f = 0; f < 256; f++) {
            assertEquals(pyPha[f], pha[f], 0f);
            float p = pha[f];
            assertTrue(p == 0f || p == (float) Math.PI);
            if (lastReal) {
                int i = (frames - 1) * 256 + f;
                assertEquals(pyPha[i], pha[i], 0f);
            }
        }

        // Inverse of Python's features against Python's inverse, and the Java round trip.
        float[] y = stft.magPhaInverse(pyMag, pyPha, frames, 0.3, x.length);
        float[] pyY = Fixtures.f32("golden/" + name + "_istft.f32");
        double dy = Fixtures.maxAbsDiff(y, pyY);
        float[] rt = stft.magPhaInverse(mag, pha, frames, 0.3, x.length);
        double drt = Fixtures.maxAbsDiff(rt, x);
        System.out.printf("  %s: iSTFT max|dy| vs Python = %.2e, Java round trip vs input = %.2e%n",
                name, dy, drt);
        assertTrue("istft differs by " + dy, dy <= WAVE_TOL);
        assertTrue("round trip differs by " + drt, drt <= WAVE_TOL);
    }

    @Test
    public void waveWithReflectionCentredLastFrame() throws Exception {
        checkWave("wave_a"); // 3001 samples: (n - 1) % hop == 0
    }

    @Test
    public void waveWithoutReflectionCentredLastFrame() throws Exception {
        checkWave("wave_b"); // 2950 samples
    }

    @Test
    public void inverseOfArbitrarySpectrumWithZeroTail() throws Exception {
        Map<String, Object> info = Fixtures.obj(Fixtures.json("golden/manifest.json"), "rand");
        int frames = Fixtures.integer(info, "frames");
        int length = Fixtures.integer(info, "length");
        float[] y = stft.magPhaInverse(Fixtures.f32("golden/rand_mag_c.f32"),
                Fixtures.f32("golden/rand_pha.f32"), frames, 0.3, length);
        float[] py = Fixtures.f32("golden/rand_istft.f32");
        double d = Fixtures.maxAbsDiff(y, py);
        System.out.printf("  rand: iSTFT max|dy| vs Python = %.2e (length %d)%n", d, length);
        assertTrue("istft differs by " + d, d <= WAVE_TOL);
        for (int i = length - 45; i < length; i++) {
            assertEquals(0f, y[i], 0f); // beyond the frames: zeros, as torch
        }
    }

    @Test
    public void defaultLengthAndErrors() {
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.05);
        }
        int frames = stft.numFrames(x.length);
        double[] re = new double[frames * 256];
        double[] im = new double[frames * 256];
        stft.forward(x, 0, x.length, re, im);
        float[] y = stft.inverse(re, im, frames, -1);
        assertEquals(100 * (frames - 1), y.length);
        for (int i = 0; i < y.length; i++) {
            assertEquals(x[i], y[i], 1e-5);
        }
        try {
            stft.forward(new float[255], 0, 255, re, im);
            fail("too short for reflect padding");
        } catch (IllegalArgumentException expected) {
            // ok
        }
        try {
            stft.magPhaInverse(new float[] {-1f}, new float[] {0f}, 1, 0.3, 10);
            fail("negative magnitude");
        } catch (IllegalArgumentException expected) {
            // ok
        }
    }

    @Test
    public void segmentRoundTripAndTiming() {
        float[] x = new float[30700];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.01) * 0.3f;
        }
        float[] mag = new float[308 * 256];
        float[] pha = new float[308 * 256];
        long t0 = System.nanoTime();
        stft.magPha(x, 0, x.length, 0.3, mag, pha);
        float[] y = stft.magPhaInverse(mag, pha, 308, 0.3, x.length);
        double ms = (System.nanoTime() - t0) / 1e6;
        System.out.printf("  one 30700-sample segment STFT + iSTFT: %.0f ms on this JVM%n", ms);
        assertEquals(x.length, y.length);
        assertEquals(x[12345], y[12345], 1e-5);
    }
}
