package ai.imse.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;
import org.junit.Test;

public class JsonTest {

    @Test
    public void parsesAllValueKinds() {
        Map<String, Object> m = Json.asObject(Json.parse(
                " {\"a\": [1, -2.5e-3, 0, 1E2], \"s\": \"x\\\"\\\\\\/\\n\\u00e9\", \"t\": true,"
                        + " \"f\": false, \"n\": null, \"o\": {}, \"e\": []}\n"), "root");
        List<Object> a = Json.asArray(m.get("a"), "a");
        assertEquals(1.0, Json.asNumber(a.get(0), "a0"), 0);
        assertEquals(-2.5e-3, Json.asNumber(a.get(1), "a1"), 0);
        assertEquals(100.0, Json.asNumber(a.get(3), "a3"), 0);
        assertEquals("x\"\\/\n\u00e9", m.get("s"));
        assertEquals(Boolean.TRUE, m.get("t"));
        assertEquals(Boolean.FALSE, m.get("f"));
        assertTrue(m.containsKey("n"));
        assertNull(m.get("n"));
        assertTrue(Json.asObject(m.get("o"), "o").isEmpty());
        assertTrue(Json.asArray(m.get("e"), "e").isEmpty());
    }

    @Test
    public void keepsDoublesExact() {
        // Python's json writes repr(float), which round-trips through Double.parseDouble.
        double scale = 0.020737778395414352;
        assertEquals(scale, Json.asNumber(Json.parse("0.020737778395414352"), "x"), 0.0);
    }

    @Test
    public void rejectsMalformed() {
        String[] bad = {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"abc", "tru", "[1] x",
                "{\"a\":1,}", "\"\\x\"", "nul", "{1:2}"};
        for (String s : bad) {
            try {
                Json.parse(s);
                fail("accepted " + s);
            } catch (Json.JsonException expected) {
                // ok
            }
        }
    }

    @Test
    public void typedAccessorsNameTheField() {
        try {
            Json.asInt(Json.parse("1.5"), "front_end.n_fft");
            fail();
        } catch (Json.JsonException e) {
            assertTrue(e.getMessage().contains("front_end.n_fft"));
        }
    }
}
