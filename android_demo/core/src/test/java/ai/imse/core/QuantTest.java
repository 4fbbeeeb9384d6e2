package ai.imse.core;

import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.Test;

public class QuantTest {

    @Test
    public void matchesPythonQuantize() throws Exception {
        Map<String, Object> q = Fixtures.obj(Fixtures.json("golden/manifest.json"), "quant");
        double scale = Json.asNumber(q.get("scale"), "scale");
        int zp = Fixtures.integer(q, "zero_point");
        List<Object> xs = Fixtures.list(q, "x");
        List<Object> qs = Fixtures.list(q, "q");
        List<Object> dqs = Fixtures.list(q, "dq");
        for (int i = 0; i < xs.size(); i++) {
            float x = (float) Json.asNumber(xs.get(i), "x");
            byte got = Quant.quantize(x, scale, zp);
            assertEquals("quantize(" + x + ")", Json.asInt(qs.get(i), "q"), got);
            assertEquals("dequantize(" + got + ")", (float) Json.asNumber(dqs.get(i), "dq"),
                    Quant.dequantize(got, scale, zp), 0f);
        }
    }

    @Test
    public void roundsTiesAwayFromZeroAndSaturates() {
        assertEquals(3.0, Quant.roundHalfAway(2.5), 0);
        assertEquals(-3.0, Quant.roundHalfAway(-2.5), 0);
        assertEquals(-2.0, Quant.roundHalfAway(-2.49), 0);
        assertEquals(3, Quant.quantize(1.25f, 0.5, 0)); // 2.5 -> 3
        assertEquals(-3, Quant.quantize(-1.25f, 0.5, 0)); // -2.5 -> -3 (Math.round gives -2)
        assertEquals(127, Quant.quantize(1e6f, 0.1, 5));
        assertEquals(-128, Quant.quantize(-1e6f, 0.1, 5));
        assertEquals(-128, Quant.quantize(Float.NEGATIVE_INFINITY, 0.1, 5));
        assertEquals(0.5f, Quant.dequantize((byte) 8, 0.25, 6), 0f);
    }
}
