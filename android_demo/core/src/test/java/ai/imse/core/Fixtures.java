package ai.imse.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.util.List;
import java.util.Map;

/** Loads the files written by {@code android_demo/tools/make_fixtures.py} from the classpath. */
final class Fixtures {

    private Fixtures() {
    }

    static byte[] bytes(String path) throws IOException {
        InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + path);
        if (in == null) {
            throw new IOException("missing fixture " + path
                    + " (regenerate: .venv/bin/python android_demo/tools/make_fixtures.py)");
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] b = new byte[65536];
            int n;
            while ((n = in.read(b)) > 0) {
                out.write(b, 0, n);
            }
            return out.toByteArray();
        } finally {
            in.close();
        }
    }

    /** Little-endian float32 values. */
    static float[] f32(String path) throws IOException {
        byte[] b = bytes(path);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        float[] x = new float[b.length / 4];
        for (int i = 0; i < x.length; i++) {
            x[i] = bb.getFloat(i * 4);
        }
        return x;
    }

    static String text(String path) throws IOException {
        return new String(bytes(path), Charset.forName("UTF-8"));
    }

    static Map<String, Object> json(String path) throws IOException {
        return Json.asObject(Json.parse(text(path)), path);
    }

    static Map<String, Object> obj(Map<String, Object> m, String key) {
        return Json.asObject(m.get(key), key);
    }

    static int integer(Map<String, Object> m, String key) {
        return Json.asInt(m.get(key), key);
    }

    static List<Object> list(Map<String, Object> m, String key) {
        return Json.asArray(m.get(key), key);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (!(d <= m)) {
                m = d; // also catches NaN
            }
        }
        return m;
    }

    /** Largest phase difference, wrapped to [0, pi]. */
    static double maxPhaseDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]) % (2 * Math.PI);
            d = Math.min(d, 2 * Math.PI - d);
            if (!(d <= m)) {
                m = d;
            }
        }
        return m;
    }
}
