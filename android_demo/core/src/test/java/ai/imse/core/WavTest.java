package ai.imse.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.Test;

public class WavTest {

    @Test
    public void pcm16RoundTrip() throws Exception {
        float[] x = {0f, 0.5f, -0.5f, 1f, -1f, 1.5f, -2f, 1e-5f};
        Wav.Audio a = Wav.read(Wav.encodePcm16(x, 22050));
        assertEquals(22050, a.sampleRate);
        assertEquals(1, a.channels);
        assertEquals(x.length, a.samples.length);
        assertEquals(16384 / 32768.0, a.samples[1], 1e-4); // round(0.5 * 32767) = 16384
        assertEquals(32767 / 32768f, a.samples[3], 0f);
        assertEquals(-32767 / 32768f, a.samples[4], 0f);
        assertEquals(32767 / 32768f, a.samples[5], 0f); // clamped
        for (int i = 0; i < 5; i++) {
            assertEquals(x[i], a.samples[i], 1.0 / 32767);
        }
    }

    @Test
    public void float32RoundTrip() throws Exception {
        float[] x = {0f, 0.25f, -0.75f, 1.5f};
        Wav.Audio a = Wav.read(new ByteArrayInputStream(Wav.encodeFloat32(x, 16000)));
        assertArrayEquals(x, a.samples, 0f);
        assertEquals(16000, a.sampleRate);
    }

    @Test
    public void stereoIsMixedToMonoAndExtraChunksSkipped() throws Exception {
        // RIFF, a LIST chunk of odd size (padded), fmt stereo PCM16, data: (1000, 3000), (-2000, 0)
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + 3 + 1 + 24 + 8 + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes("US-ASCII")).putInt(b.capacity() - 8).put("WAVE".getBytes("US-ASCII"));
        b.put("LIST".getBytes("US-ASCII")).putInt(3).put(new byte[] {1, 2, 3, 0});
        b.put("fmt ".getBytes("US-ASCII")).putInt(16).putShort((short) 1).putShort((short) 2)
                .putInt(8000).putInt(8000 * 4).putShort((short) 4).putShort((short) 16);
        b.put("data".getBytes("US-ASCII")).putInt(8).putShort((short) 1000).putShort((short) 3000)
                .putShort((short) -2000).putShort((short) 0);
        Wav.Audio a = Wav.read(b.array());
        assertEquals(2, a.channels);
        assertEquals(8000, a.sampleRate);
        assertArrayEquals(new float[] {2000 / 32768f, -1000 / 32768f}, a.samples, 1e-7f);
    }

    @Test
    public void readsTheFixtureWav() throws Exception {
        Wav.Audio a = Wav.read(Fixtures.bytes("replay/input.wav"));
        assertEquals(16000, a.sampleRate);
        assertEquals(40000, a.samples.length);
    }

    @Test
    public void rejectsNonWavAndEmpty() {
        byte[][] bad = {
            new byte[0],
            "hello, this is not audio at all".getBytes(),
            "RIFF\0\0\0\0WAVE".getBytes(),                   // no chunks
            Wav.encodePcm16(new float[0], 16000),              // empty data chunk
            java.util.Arrays.copyOf(Wav.encodePcm16(new float[4], 16000), 30), // truncated fmt
        };
        for (byte[] d : bad) {
            try {
                Wav.read(d);
                fail("accepted " + d.length + " bytes");
            } catch (Wav.WavException e) {
                assertTrue(e.getMessage().length() > 0);
            }
        }
    }

    @Test
    public void rejectsUnsupportedEncoding() throws Exception {
        byte[] d = Wav.encodePcm16(new float[4], 16000);
        ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putShort(20, (short) 6); // A-law
        try {
            Wav.read(d);
            fail();
        } catch (Wav.WavException e) {
            assertTrue(e.getMessage().contains("unsupported"));
        }
    }
}
