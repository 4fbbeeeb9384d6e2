package ai.imse.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class NormalizeTest {

    @Test
    public void matchesPython() throws Exception {
        float[] x = Fixtures.f32("golden/wave_a.f32");
        float[] out = new float[x.length];
        double norm = Normalize.rms(x, out);
        double pyNorm = Json.asNumber(
                Fixtures.obj(Fixtures.json("golden/manifest.json"), "wave_a").get("norm"), "norm");
        assertEquals(pyNorm, norm, 1e-12 * pyNorm);
        double d = Fixtures.maxAbsDiff(out, Fixtures.f32("golden/wave_a_norm.f32"));
        assertTrue("normalised waveform differs by " + d, d <= 1e-6);
    }

    @Test
    public void silenceIsUnchanged() {
        float[] x = new float[10];
        float[] out = new float[10];
        assertEquals(1.0, Normalize.rms(x, out), 0);
        assertArrayEquals(x, out, 0f);
    }

    @Test(expected = IllegalArgumentException.class)
    public void emptyRejected() {
        Normalize.rms(new float[0], new float[0]);
    }

    @Test(expected = IllegalArgumentException.class)
    public void nanRejected() {
        Normalize.rms(new float[] {0.1f, Float.NaN}, new float[2]);
    }
}
