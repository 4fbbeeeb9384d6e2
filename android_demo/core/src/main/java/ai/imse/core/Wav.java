package ai.imse.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * RIFF/WAVE reading and writing.
 *
 * <p>Reads PCM 8/16/24/32-bit and IEEE float 32/64-bit, plain or {@code WAVE_FORMAT_EXTENSIBLE},
 * any channel count, mixed down to mono by averaging. Integer PCM is scaled by
 * {@code 1 / 2^(bits-1)} (PCM16: {@code s / 32768}, as soundfile and numpy code do). Writes
 * mono PCM16 ({@code round(clamp(x, -1, 1) * 32767)}) or float32.
 */
public final class Wav {

    /** A file that is not a readable WAV, or holds no audio. */
    public static final class WavException extends IOException {
        private static final long serialVersionUID = 1L;

        public WavException(String message) {
            super(message);
        }
    }

    /** Decoded audio: mono samples in [-1, 1] (float formats may exceed it). */
    public static final class Audio {
        public final float[] samples;
        public final int sampleRate;
        /** Channels in the file, before the mix-down. */
        public final int channels;

        public Audio(float[] samples, int sampleRate, int channels) {
            this.samples = samples;
            this.sampleRate = sampleRate;
            this.channels = channels;
        }

        public double seconds() {
            return samples.length / (double) sampleRate;
        }
    }

    private static final int PCM = 1;
    private static final int FLOAT = 3;
    private static final int EXTENSIBLE = 0xFFFE;

    private Wav() {
    }

    /** Reads a whole stream (not closed). */
    public static Audio read(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[65536];
        int n;
        while ((n = in.read(b)) > 0) {
            buf.write(b, 0, n);
        }
        return read(buf.toByteArray());
    }

    /** Decodes a WAV file held in memory. */
    public static Audio read(byte[] data) throws WavException {
        ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (data.length < 12 || !tag(data, 0, "RIFF") || !tag(data, 8, "WAVE")) {
            throw new WavException("not a WAV file (no RIFF/WAVE header)");
        }
        int format = -1;
        int channels = 0;
        int rate = 0;
        int bits = 0;
        int blockAlign = 0;
        int dataOff = -1;
        int dataLen = 0;
        int pos = 12;
        while (pos + 8 <= data.length) {
            long size = bb.getInt(pos + 4) & 0xFFFFFFFFL;
            int body = pos + 8;
            if (tag(data, pos, "fmt ")) {
                if (size < 16 || body + 16 > data.length) {
                    throw new WavException("truncated fmt chunk");
                }
                format = bb.getShort(body) & 0xFFFF;
                channels = bb.getShort(body + 2) & 0xFFFF;
                rate = bb.getInt(body + 4);
                blockAlign = bb.getShort(body + 12) & 0xFFFF;
                bits = bb.getShort(body + 14) & 0xFFFF;
                if (format == EXTENSIBLE) {
                    if (size < 40 || body + 26 > data.length) {
                        throw new WavException("truncated WAVE_FORMAT_EXTENSIBLE fmt chunk");
                    }
                    format = bb.getShort(body + 24) & 0xFFFF; // first two bytes of the GUID
                }
            } else if (tag(data, pos, "data")) {
                dataOff = body;
                // Streaming writers leave 0 or 0xFFFFFFFF; take what the file holds.
                long avail = data.length - (long) body;
                dataLen = (int) Math.min(size == 0 || size == 0xFFFFFFFFL ? avail : size, avail);
                break;
            }
            long next = body + size + (size & 1);
            if (next > data.length) {
                break;
            }
            pos = (int) next;
        }
        if (format < 0) {
            throw new WavException("WAV file without a fmt chunk");
        }
        if (dataOff < 0) {
            throw new WavException("WAV file without a data chunk");
        }
        if (channels < 1 || rate < 1) {
            throw new WavException("bad WAV header: channels=" + channels + ", rate=" + rate);
        }
        boolean pcmOk = format == PCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32);
        boolean floatOk = format == FLOAT && (bits == 32 || bits == 64);
        if (!pcmOk && !floatOk) {
            throw new WavException("unsupported WAV encoding: format " + format + ", " + bits
                    + " bits (supported: PCM 8/16/24/32, float 32/64)");
        }
        int bytes = bits / 8;
        int frameBytes = bytes * channels;
        if (blockAlign != 0 && blockAlign != frameBytes) {
            throw new WavException("unsupported block alignment " + blockAlign);
        }
        int frames = dataLen / frameBytes;
        if (frames == 0) {
            throw new WavException("the WAV file holds no audio (empty data chunk)");
        }
        float[] mono = new float[frames];
        for (int i = 0; i < frames; i++) {
            double sum = 0.0;
            int p = dataOff + i * frameBytes;
            for (int c = 0; c < channels; c++, p += bytes) {
                sum += sample(bb, p, format, bits);
            }
            mono[i] = (float) (sum / channels);
        }
        return new Audio(mono, rate, channels);
    }

    private static double sample(ByteBuffer bb, int p, int format, int bits) {
        if (format == FLOAT) {
            return bits == 32 ? bb.getFloat(p) : bb.getDouble(p);
        }
        switch (bits) {
            case 8:
                return ((bb.get(p) & 0xFF) - 128) / 128.0;
            case 16:
                return bb.getShort(p) / 32768.0;
            case 24:
                int v = (bb.get(p) & 0xFF) | ((bb.get(p + 1) & 0xFF) << 8) | (bb.get(p + 2) << 16);
                return v / 8388608.0;
            default:
                return bb.getInt(p) / 2147483648.0;
        }
    }

    private static boolean tag(byte[] d, int off, String t) {
        if (off + 4 > d.length) {
            return false;
        }
        for (int i = 0; i < 4; i++) {
            if (d[off + i] != (byte) t.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Mono PCM16 WAV bytes. */
    public static byte[] encodePcm16(float[] x, int sampleRate) {
        ByteBuffer bb = header(x.length * 2, sampleRate, PCM, 16);
        for (float v : x) {
            bb.putShort(toPcm16(v));
        }
        return bb.array();
    }

    /** Mono IEEE float32 WAV bytes. */
    public static byte[] encodeFloat32(float[] x, int sampleRate) {
        ByteBuffer bb = header(x.length * 4, sampleRate, FLOAT, 32);
        for (float v : x) {
            bb.putFloat(v);
        }
        return bb.array();
    }

    /** {@code round(clamp(x, -1, 1) * 32767)}; NaN becomes 0. */
    public static short toPcm16(float v) {
        if (Float.isNaN(v)) {
            return 0;
        }
        double c = Math.max(-1.0, Math.min(1.0, v));
        return (short) Math.round(c * 32767.0);
    }

    public static void writePcm16(OutputStream out, float[] x, int sampleRate) throws IOException {
        out.write(encodePcm16(x, sampleRate));
    }

    private static ByteBuffer header(int dataBytes, int rate, int format, int bits) {
        if (rate < 1) {
            throw new IllegalArgumentException("sample rate must be positive");
        }
        ByteBuffer bb = ByteBuffer.allocate(44 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        int bytes = bits / 8;
        bb.put(new byte[] {'R', 'I', 'F', 'F'}).putInt(36 + dataBytes);
        bb.put(new byte[] {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '}).putInt(16);
        bb.putShort((short) format).putShort((short) 1).putInt(rate).putInt(rate * bytes);
        bb.putShort((short) bytes).putShort((short) bits);
        bb.put(new byte[] {'d', 'a', 't', 'a'}).putInt(dataBytes);
        return bb;
    }
}
