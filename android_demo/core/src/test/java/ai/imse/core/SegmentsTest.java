package ai.imse.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.Test;

public class SegmentsTest {

    @Test
    public void plansMatchPython() throws Exception {
        List<Object> plans = Fixtures.list(Fixtures.json("golden/manifest.json"), "plans");
        assertTrue(plans.size() >= 5);
        for (Object o : plans) {
            Map<String, Object> p = Json.asObject(o, "plan");
            int n = Fixtures.integer(p, "n");
            int s = Fixtures.integer(p, "segment_size");
            List<Object> want = Fixtures.list(p, "plan");
            int[][] got = Segments.plan(n, s);
            assertEquals("n=" + n, want.size(), got.length);
            for (int i = 0; i < got.length; i++) {
                List<Object> w = Json.asArray(want.get(i), "pair");
                assertEquals(Json.asInt(w.get(0), "start"), got[i][0]);
                assertEquals(Json.asInt(w.get(1), "stop"), got[i][1]);
            }
        }
    }

    @Test
    public void mergeMatchesPython() throws Exception {
        Map<String, Object> m = Fixtures.obj(Fixtures.json("golden/manifest.json"), "merge");
        int n = Fixtures.integer(m, "n");
        int s = Fixtures.integer(m, "segment_size");
        int k = Fixtures.integer(m, "segments");
        float[] flat = Fixtures.f32("golden/merge_outputs.f32");
        float[][] outputs = new float[k][s];
        for (int i = 0; i < k; i++) {
            System.arraycopy(flat, i * s, outputs[i], 0, s);
        }
        int[][] plan = Segments.plan(n, s);
        float[] off = Segments.merge(outputs, plan, n, Segments.MergeMode.OFFICIAL);
        float[] cf = Segments.merge(outputs, plan, n, Segments.MergeMode.CROSSFADE);
        assertArrayEquals(Fixtures.f32("golden/merge_official.f32"), off, 0f);
        double d = Fixtures.maxAbsDiff(cf, Fixtures.f32("golden/merge_crossfade.f32"));
        System.out.printf("  crossfade merge max|d| vs Python = %.2e%n", d);
        assertTrue(d <= 1e-7);
    }

    @Test
    public void splitPadsAndMergeIsSeamless() {
        float[] x = new float[137];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.cos(i * 0.3);
        }
        for (Segments.MergeMode mode : Segments.MergeMode.values()) {
            int[][] plan = Segments.plan(x.length, 50);
            assertArrayEquals(x, Segments.merge(Segments.split(x, plan, 50), plan, x.length, mode), 0f);
        }
        float[] shortX = {1f, 2f, 3f};
        float[][] seg = Segments.split(shortX, Segments.plan(3, 50), 50);
        assertEquals(1, seg.length);
        assertEquals(50, seg[0].length);
        assertEquals(3f, seg[0][2], 0f);
        assertEquals(0f, seg[0][3], 0f);
        assertArrayEquals(shortX, Segments.merge(seg, Segments.plan(3, 50), 3,
                Segments.MergeMode.CROSSFADE), 0f);
    }

    @Test(expected = IllegalArgumentException.class)
    public void emptyPlanRejected() {
        Segments.plan(0, 30700);
    }
}
