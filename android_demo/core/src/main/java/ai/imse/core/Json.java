package ai.imse.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal, strict JSON reader (RFC 8259), enough for the model's I/O contract.
 *
 * <p>Objects become {@link LinkedHashMap}{@code <String, Object>}, arrays {@link ArrayList},
 * numbers {@link Double}, strings {@link String}, {@code true}/{@code false} {@link Boolean},
 * and {@code null} Java {@code null}. Neither the JDK nor plain Java has a JSON parser, and
 * {@code org.json} exists on Android only, so the core carries its own.
 */
public final class Json {

    /** Malformed JSON, with the character offset where reading failed. */
    public static final class JsonException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        JsonException(String message, int offset) {
            super(message + " at offset " + offset);
        }

        JsonException(String message) {
            super(message);
        }
    }

    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    /** Parses one JSON value; only whitespace may follow it. */
    public static Object parse(String text) {
        if (text == null) {
            throw new JsonException("null text");
        }
        Json p = new Json(text);
        p.ws();
        Object v = p.value(0);
        p.ws();
        if (p.i != text.length()) {
            throw new JsonException("trailing characters", p.i);
        }
        return v;
    }

    private void ws() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                i++;
            } else {
                break;
            }
        }
    }

    private Object value(int depth) {
        if (depth > 200) {
            throw new JsonException("nesting too deep", i);
        }
        if (i >= s.length()) {
            throw new JsonException("unexpected end of input", i);
        }
        char c = s.charAt(i);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw new JsonException("unexpected character '" + c + "'", i);
        }
    }

    private void literal(String word) {
        if (!s.startsWith(word, i)) {
            throw new JsonException("expected " + word, i);
        }
        i += word.length();
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> m = new LinkedHashMap<String, Object>();
        i++; // '{'
        ws();
        if (i < s.length() && s.charAt(i) == '}') {
            i++;
            return m;
        }
        while (true) {
            ws();
            if (i >= s.length() || s.charAt(i) != '"') {
                throw new JsonException("expected a string key", i);
            }
            String key = string();
            ws();
            expect(':');
            ws();
            m.put(key, value(depth + 1));
            ws();
            if (i < s.length() && s.charAt(i) == ',') {
                i++;
                continue;
            }
            expect('}');
            return m;
        }
    }

    private List<Object> array(int depth) {
        List<Object> a = new ArrayList<Object>();
        i++; // '['
        ws();
        if (i < s.length() && s.charAt(i) == ']') {
            i++;
            return a;
        }
        while (true) {
            ws();
            a.add(value(depth + 1));
            ws();
            if (i < s.length() && s.charAt(i) == ',') {
                i++;
                continue;
            }
            expect(']');
            return a;
        }
    }

    private void expect(char c) {
        if (i >= s.length() || s.charAt(i) != c) {
            throw new JsonException("expected '" + c + "'", i);
        }
        i++;
    }

    private String string() {
        i++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) {
                throw new JsonException("unterminated string", i);
            }
            char c = s.charAt(i++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                throw new JsonException("control character in string", i - 1);
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length()) {
                throw new JsonException("unterminated escape", i);
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"': b.append('"'); break;
                case '\\': b.append('\\'); break;
                case '/': b.append('/'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'u':
                    if (i + 4 > s.length()) {
                        throw new JsonException("short \\u escape", i);
                    }
                    try {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw new JsonException("bad \\u escape", i);
                    }
                    i += 4;
                    break;
                default:
                    throw new JsonException("bad escape '\\" + e + "'", i - 1);
            }
        }
    }

    private Double number() {
        int start = i;
        if (s.charAt(i) == '-') {
            i++;
        }
        int intStart = i;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == intStart || (s.charAt(intStart) == '0' && i - intStart > 1)) {
            throw new JsonException("bad number", start);
        }
        if (i < s.length() && s.charAt(i) == '.') {
            i++;
            int fs = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == fs) {
                throw new JsonException("bad number", start);
            }
        }
        if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int es = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == es) {
                throw new JsonException("bad number", start);
            }
        }
        return Double.valueOf(s.substring(start, i));
    }

    // --- typed accessors (clear errors instead of ClassCastException) -------------------

    /** {@code v} as an object, or an exception naming {@code what}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> asObject(Object v, String what) {
        if (!(v instanceof Map)) {
            throw new JsonException(what + ": expected an object, got " + kind(v));
        }
        return (Map<String, Object>) v;
    }

    /** {@code v} as an array. */
    @SuppressWarnings("unchecked")
    public static List<Object> asArray(Object v, String what) {
        if (!(v instanceof List)) {
            throw new JsonException(what + ": expected an array, got " + kind(v));
        }
        return (List<Object>) v;
    }

    /** {@code v} as a number. */
    public static double asNumber(Object v, String what) {
        if (!(v instanceof Double)) {
            throw new JsonException(what + ": expected a number, got " + kind(v));
        }
        return ((Double) v).doubleValue();
    }

    /** {@code v} as an integer (a number with no fractional part). */
    public static int asInt(Object v, String what) {
        double d = asNumber(v, what);
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new JsonException(what + ": expected an integer, got " + d);
        }
        return (int) d;
    }

    /** {@code v} as a string. */
    public static String asString(Object v, String what) {
        if (!(v instanceof String)) {
            throw new JsonException(what + ": expected a string, got " + kind(v));
        }
        return (String) v;
    }

    /** {@code v} as a boolean. */
    public static boolean asBoolean(Object v, String what) {
        if (!(v instanceof Boolean)) {
            throw new JsonException(what + ": expected true/false, got " + kind(v));
        }
        return ((Boolean) v).booleanValue();
    }

    /** The member {@code key} of {@code obj}, which must be present (it may be null). */
    public static Object get(Map<String, Object> obj, String key, String what) {
        if (!obj.containsKey(key)) {
            throw new JsonException(what + ": missing \"" + key + "\"");
        }
        return obj.get(key);
    }

    private static String kind(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Map) {
            return "an object";
        }
        if (v instanceof List) {
            return "an array";
        }
        if (v instanceof String) {
            return "a string";
        }
        if (v instanceof Double) {
            return "a number";
        }
        return "a boolean";
    }
}
