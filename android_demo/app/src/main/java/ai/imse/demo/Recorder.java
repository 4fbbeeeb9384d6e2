package ai.imse.demo;

import android.media.AudioFormat;
import android.media.AudioRecord;
import android.media.MediaRecorder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Mono PCM16 microphone capture on its own thread, at the model's 16 kHz. */
final class Recorder {

    static final int SAMPLE_RATE = 16000;
    /** Recordings stop by themselves after this long (memory bound). */
    static final int MAX_SECONDS = 120;

    interface Listener {
        /** Called on the recording thread when capture ends (stop, limit or error). */
        void onFinished(float[] samples, String error);
    }

    private volatile boolean running;
    private Thread thread;

    boolean isRunning() {
        return running;
    }

    /**
     * Starts capture. The caller must hold RECORD_AUDIO.
     *
     * @return null on success, else why it could not start
     */
    String start(final Listener listener) {
        if (running) {
            return "already recording";
        }
        int min = AudioRecord.getMinBufferSize(SAMPLE_RATE, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT);
        if (min <= 0) {
            return "this device cannot record 16 kHz mono PCM16";
        }
        final AudioRecord record;
        try {
            record = new AudioRecord(MediaRecorder.AudioSource.MIC, SAMPLE_RATE,
                    AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT,
                    Math.max(min, SAMPLE_RATE / 5 * 2));
        } catch (SecurityException e) {
            return "microphone permission missing";
        } catch (IllegalArgumentException e) {
            return "cannot open the microphone: " + e.getMessage();
        }
        if (record.getState() != AudioRecord.STATE_INITIALIZED) {
            record.release();
            return "the microphone is unavailable (in use by another app?)";
        }
        try {
            record.startRecording();
        } catch (IllegalStateException e) {
            record.release();
            return "cannot start recording: " + e.getMessage();
        }
        running = true;
        thread = new Thread(new Runnable() {
            @Override
            public void run() {
                capture(record, listener);
            }
        }, "imse-recorder");
        thread.start();
        return null;
    }

    void stop() {
        running = false;
    }

    private void capture(AudioRecord record, Listener listener) {
        ByteArrayOutputStream pcm = new ByteArrayOutputStream();
        short[] buf = new short[SAMPLE_RATE / 10];
        byte[] bytes = new byte[buf.length * 2];
        String error = null;
        long total = 0;
        try {
            while (running && total < (long) MAX_SECONDS * SAMPLE_RATE) {
                int n = record.read(buf, 0, buf.length);
                if (n < 0) {
                    error = "microphone read failed (code " + n + ")";
                    break;
                }
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().put(buf, 0, n);
                pcm.write(bytes, 0, n * 2);
                total += n;
            }
        } finally {
            running = false;
            try {
                record.stop();
            } catch (IllegalStateException ignored) {
                // already stopped
            }
            record.release();
        }
        byte[] data = pcm.toByteArray();
        ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        float[] samples = new float[data.length / 2];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = bb.getShort(2 * i) / 32768f;
        }
        listener.onFinished(samples, error);
    }
}
