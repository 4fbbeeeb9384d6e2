package ai.imse.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class ResamplerTest {

    private static float[] sine(double hz, int rate, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.5 * Math.sin(2 * Math.PI * hz * i / rate));
        }
        return x;
    }

    private static double rms(float[] x, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += x[i] * (double) x[i];
        }
        return Math.sqrt(s / (to - from));
    }

    @Test
    public void keepsInBandToneAndLength() {
        for (int rate : new int[] {8000, 22050, 44100, 48000}) {
            int n = rate / 2;
            float[] y = Resampler.resample(sine(1000, rate, n), rate, 16000);
            assertEquals(Math.round(n * 16000.0 / rate), y.length);
            float[] ref = sine(1000, 16000, y.length);
            double err = 0;
            for (int i = 200; i < y.length - 200; i++) {
                err = Math.max(err, Math.abs(y[i] - ref[i]));
            }
            assertTrue(rate + " Hz: 1 kHz tone off by " + err, err < 2e-3);
        }
    }

    @Test
    public void suppressesAliases() {
        // 10 kHz at 48 kHz is above the 8 kHz Nyquist of 16 kHz: must be filtered, not aliased.
        float[] y = Resampler.resample(sine(10000, 48000, 24000), 48000, 16000);
        double level = rms(y, 200, y.length - 200) / (0.5 / Math.sqrt(2));
        assertTrue("alias at " + 20 * Math.log10(level) + " dB", level < 1e-3);
    }

    @Test
    public void sameRateIsACopy() {
        float[] x = {1f, 2f};
        float[] y = Resampler.resample(x, 16000, 16000);
        assertArrayEquals(x, y, 0f);
        assertTrue(x != y);
    }

    @Test
    public void roundTripIsClose() {
        float[] x = sine(440, 16000, 8000);
        float[] y = Resampler.resample(Resampler.resample(x, 16000, 44100), 44100, 16000);
        assertEquals(x.length, y.length);
        for (int i = 300; i < x.length - 300; i++) {
            assertEquals(x[i], y[i], 2e-3);
        }
    }
}
