package ai.imse.demo;

import ai.imse.core.Wav;
import android.media.AudioAttributes;
import android.media.AudioFormat;
import android.media.AudioTrack;

/** Plays a mono float waveform through a streaming PCM16 AudioTrack on its own thread. */
final class Player {

    private volatile boolean playing;
    private Thread thread;

    /** Stops what is playing, then plays {@code samples}. Returns null or an error. */
    synchronized String play(final float[] samples, final int sampleRate) {
        stop();
        int min = AudioTrack.getMinBufferSize(sampleRate, AudioFormat.CHANNEL_OUT_MONO,
                AudioFormat.ENCODING_PCM_16BIT);
        if (min <= 0) {
            return "cannot play " + sampleRate + " Hz audio on this device";
        }
        final AudioTrack track;
        try {
            track = new AudioTrack.Builder()
                    .setAudioAttributes(new AudioAttributes.Builder()
                            .setUsage(AudioAttributes.USAGE_MEDIA)
                            .setContentType(AudioAttributes.CONTENT_TYPE_SPEECH)
                            .build())
                    .setAudioFormat(new AudioFormat.Builder()
                            .setEncoding(AudioFormat.ENCODING_PCM_16BIT)
                            .setSampleRate(sampleRate)
                            .setChannelMask(AudioFormat.CHANNEL_OUT_MONO)
                            .build())
                    .setBufferSizeInBytes(Math.max(min, sampleRate / 5 * 2))
                    .setTransferMode(AudioTrack.MODE_STREAM)
                    .build();
        } catch (UnsupportedOperationException e) {
            return "cannot open audio output: " + e.getMessage();
        } catch (IllegalArgumentException e) {
            return "cannot open audio output: " + e.getMessage();
        }
        playing = true;
        thread = new Thread(new Runnable() {
            @Override
            public void run() {
                short[] chunk = new short[sampleRate / 10];
                try {
                    track.play();
                    for (int pos = 0; pos < samples.length && playing; pos += chunk.length) {
                        int n = Math.min(chunk.length, samples.length - pos);
                        for (int i = 0; i < n; i++) {
                            chunk[i] = Wav.toPcm16(samples[pos + i]);
                        }
                        track.write(chunk, 0, n);
                    }
                    if (playing) {
                        track.stop(); // plays out what is buffered
                    } else {
                        track.pause();
                        track.flush();
                    }
                } catch (IllegalStateException ignored) {
                    // released underneath us
                } finally {
                    track.release();
                    playing = false;
                }
            }
        }, "imse-player");
        thread.start();
        return null;
    }

    synchronized void stop() {
        playing = false;
        if (thread != null) {
            try {
                thread.join(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            thread = null;
        }
    }
}
