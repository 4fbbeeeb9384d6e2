package ai.imse.demo;

import ai.imse.core.Benchmark;
import ai.imse.core.BundledModels;
import ai.imse.core.Enhancer;
import ai.imse.core.ModelContract;
import ai.imse.core.Segments;
import ai.imse.core.TimedRunner;
import ai.imse.core.Wav;
import android.content.Context;
import android.content.res.AssetFileDescriptor;
import android.net.Uri;
import android.os.Handler;
import android.os.Looper;
import android.os.SystemClock;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Everything the screen shows and all the work behind it, owned by the process instead of an
 * Activity (the role of a Jetpack {@code ViewModel}, written without AndroidX so that it compiles
 * against the platform API alone).
 *
 * <p>A configuration change of any kind (rotation, dark mode, locale, font size, a multi-window
 * resize) recreates {@link MainActivity}; the new instance attaches here and redraws from this
 * state while a recording, an enhancement, playback or a benchmark goes on. State lives until
 * the process dies; the system may kill a process in the background, and then the audio held
 * here is lost (nothing is saved to disk without the user's Save).
 *
 * <p>Threading: the fields are read and written on the main thread only. One worker thread
 * loads the model, reads and writes files, enhances and benchmarks; it posts its results back.
 * The interpreter and the enhancer are used on the worker only.
 */
final class Session {

    /** The attached screen; called on the main thread whenever the state changed. */
    interface Listener {
        void onSessionChanged();
    }

    private static final long MAX_FILE_BYTES = 200L * 1024 * 1024;
    private static final int BENCH_WARMUP = 1;
    private static final int BENCH_RUNS = 5;

    private static Session instance;

    /** The process-wide session (created on first use, on the main thread). */
    static Session get(Context context) {
        if (instance == null) {
            instance = new Session(context.getApplicationContext());
        }
        return instance;
    }

    private final Context app;
    private final Handler main = new Handler(Looper.getMainLooper());
    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private final Recorder recorder = new Recorder();
    private final Player player = new Player();
    private Listener listener;

    // --- state shown on screen (main thread) ----------------------------------------------
    private String modelInfo = "Loading the model…";
    private String status;
    private String benchmark = "";
    private int progress; // percent
    private boolean busy;
    private float[] original;
    private float[] enhanced;
    private int sampleRate;
    private String sourceName = "";

    // --- worker-thread state ---------------------------------------------------------------
    private TfliteRunner runner;
    private Enhancer enhancer;
    private String modelError = "the model is still loading";
    private List<String> models = new ArrayList<String>();

    private Session(Context app) {
        this.app = app;
        this.status = app.getString(R.string.hint);
        worker.execute(new Runnable() {
            @Override
            public void run() {
                final String info = loadModel();
                post(new Runnable() {
                    @Override
                    public void run() {
                        modelInfo = info;
                    }
                });
            }
        });
    }

    // --- what the screen reads -------------------------------------------------------------

    String modelInfo() {
        return modelInfo;
    }

    String status() {
        return status;
    }

    String benchmarkText() {
        return benchmark;
    }

    int progress() {
        return progress;
    }

    boolean busy() {
        return busy;
    }

    boolean recording() {
        return recorder.isRunning();
    }

    boolean hasOriginal() {
        return original != null;
    }

    boolean hasEnhanced() {
        return enhanced != null;
    }

    String suggestedSaveName() {
        return BundledModels.stem(sourceName.isEmpty() ? "audio" : sourceName) + "_enhanced.wav";
    }

    /** The screen to notify (from onStart; detach in onStop). Redraws it at once. */
    void attach(Listener l) {
        listener = l;
        changed();
    }

    void detach(Listener l) {
        if (listener == l) {
            listener = null;
        }
    }

    void setStatus(String message) {
        status = message;
        changed();
    }

    // --- model -----------------------------------------------------------------------------

    /** On the worker: finds the bundled models and builds the enhancer on the preferred one. */
    private String loadModel() {
        try {
            models = BundledModels.list(app.getAssets().list(""));
            String chosen = BundledModels.preferred(models);
            if (chosen == null) {
                modelError = "no model in the assets";
                return "No model in the app's assets. From the repository root run `make"
                        + " android-model`, then rebuild the app.";
            }
            ModelContract contract = readContract(chosen);
            int threads = defaultThreads();
            runner = new TfliteRunner(mapAsset(chosen), contract, threads);
            enhancer = new Enhancer(contract, runner, Segments.MergeMode.CROSSFADE);
            return String.format(Locale.US,
                    "Model %s (%s, %s I/O), %d CPU threads; %d bundled model(s)."
                    + " Works on %.2f s segments at %d Hz.",
                    chosen, contract.mode, contract.input("mag_c").dtype, threads, models.size(),
                    contract.segmentSamples / (double) contract.sampleRate, contract.sampleRate);
        } catch (Throwable e) { // IOException, bad contract, interpreter errors, no native lib
            enhancer = null;
            modelError = e.toString();
            return "Cannot load the model: " + e;
        }
    }

    private static int defaultThreads() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    private ModelContract readContract(String model) throws IOException {
        InputStream in = app.getAssets().open(BundledModels.stem(model) + ".json");
        try {
            return ModelContract.read(in);
        } finally {
            in.close();
        }
    }

    private MappedByteBuffer mapAsset(String name) throws IOException {
        // Fails for a compressed asset: app/build.gradle.kts keeps .tflite uncompressed.
        AssetFileDescriptor fd = app.getAssets().openFd(name);
        try {
            FileInputStream in = new FileInputStream(fd.getFileDescriptor());
            try {
                FileChannel ch = in.getChannel();
                return ch.map(FileChannel.MapMode.READ_ONLY, fd.getStartOffset(), fd.getDeclaredLength());
            } finally {
                in.close();
            }
        } finally {
            fd.close();
        }
    }

    // --- recording -------------------------------------------------------------------------

    /** Starts or stops the microphone; the caller has checked RECORD_AUDIO. */
    void toggleRecording() {
        if (recorder.isRunning()) {
            recorder.stop();
            changed();
            return;
        }
        player.stop();
        String error = recorder.start(new Recorder.Listener() {
            @Override
            public void onFinished(final float[] samples, final String error) {
                post(new Runnable() {
                    @Override
                    public void run() {
                        onRecorded(samples, error);
                    }
                });
            }
        });
        status = error != null ? "Cannot record: " + error
                : "Recording at " + Recorder.SAMPLE_RATE + " Hz… (at most " + Recorder.MAX_SECONDS + " s)";
        changed();
    }

    private void onRecorded(float[] samples, String error) {
        if (samples.length == 0) {
            status = "The recording is empty" + (error == null ? "." : ": " + error);
            changed();
            return;
        }
        setOriginal(samples, Recorder.SAMPLE_RATE, "recording");
        if (error != null) {
            status += "\n(" + error + ")";
        }
        changed();
    }

    // --- files -----------------------------------------------------------------------------

    /** Reads a WAV picked with ACTION_OPEN_DOCUMENT. */
    void open(final Uri uri) {
        final String name = uri.getLastPathSegment() == null ? "audio" : uri.getLastPathSegment();
        startWork("Reading " + name + "…");
        worker.execute(new Runnable() {
            @Override
            public void run() {
                String error = null;
                Wav.Audio audio = null;
                try {
                    InputStream in = app.getContentResolver().openInputStream(uri);
                    if (in == null) {
                        throw new IOException("the provider returned no data");
                    }
                    try {
                        audio = Wav.read(readLimited(in));
                    } finally {
                        in.close();
                    }
                } catch (Wav.WavException e) {
                    error = "Not a supported WAV file: " + e.getMessage();
                } catch (IOException e) {
                    error = "Cannot read the file: " + e.getMessage();
                } catch (OutOfMemoryError e) {
                    error = "The file is too large for this demo.";
                } catch (RuntimeException e) { // SecurityException from a provider, etc.
                    error = "Cannot read the file: " + e;
                }
                final String err = error;
                final Wav.Audio result = audio;
                post(new Runnable() {
                    @Override
                    public void run() {
                        busy = false;
                        if (err != null) {
                            status = err;
                        } else {
                            setOriginal(result.samples, result.sampleRate, name);
                            if (result.channels > 1) {
                                status += "\n(" + result.channels + " channels mixed to mono)";
                            }
                        }
                    }
                });
            }
        });
    }

    private static byte[] readLimited(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
            if (out.size() > MAX_FILE_BYTES) {
                throw new IOException("larger than " + (MAX_FILE_BYTES >> 20) + " MB");
            }
        }
        return out.toByteArray();
    }

    /** Writes the enhanced audio to a document made with ACTION_CREATE_DOCUMENT. */
    void save(final Uri uri) {
        final float[] samples = enhanced;
        final int rate = sampleRate;
        if (samples == null) {
            setStatus("Nothing to save yet: enhance something first.");
            return;
        }
        startWork("Saving…");
        worker.execute(new Runnable() {
            @Override
            public void run() {
                String msg;
                try {
                    OutputStream out = app.getContentResolver().openOutputStream(uri);
                    if (out == null) {
                        throw new IOException("the provider returned no stream");
                    }
                    try {
                        Wav.writePcm16(out, samples, rate);
                    } finally {
                        out.close();
                    }
                    msg = "Saved the enhanced audio (PCM16, " + rate + " Hz).";
                } catch (IOException e) {
                    msg = "Saving failed: " + e.getMessage();
                } catch (RuntimeException e) {
                    msg = "Saving failed: " + e;
                }
                finish(msg);
            }
        });
    }

    // --- enhancement, playback, benchmark --------------------------------------------------

    private void setOriginal(float[] samples, int rate, String name) {
        player.stop();
        original = samples;
        sampleRate = rate;
        sourceName = name;
        enhanced = null;
        progress = 0;
        status = String.format(Locale.US, "Loaded %s: %.2f s at %d Hz. Tap Enhance.",
                name, samples.length / (double) rate, rate);
    }

    void enhance() {
        if (original == null) {
            setStatus("Record or open some audio first.");
            return;
        }
        final float[] input = original;
        final int rate = sampleRate;
        progress = 0;
        startWork("Enhancing…");
        worker.execute(new Runnable() {
            @Override
            public void run() {
                String msg;
                float[] out = null;
                if (enhancer == null) {
                    msg = "No usable model: " + modelError;
                } else {
                    try {
                        long t0 = SystemClock.elapsedRealtime();
                        out = enhancer.enhance(input, rate, new Enhancer.Progress() {
                            @Override
                            public void onProgress(final int done, final int total) {
                                post(new Runnable() {
                                    @Override
                                    public void run() {
                                        progress = 100 * done / total;
                                    }
                                });
                            }
                        });
                        double seconds = (SystemClock.elapsedRealtime() - t0) / 1000.0;
                        double audio = input.length / (double) rate;
                        msg = String.format(Locale.US, "Enhanced %.2f s of audio in %.2f s:"
                                + " real-time factor %.3f (below 1 is faster than real time).",
                                audio, seconds, seconds / audio);
                    } catch (IllegalArgumentException e) {
                        msg = "Cannot enhance this audio: " + e.getMessage();
                    } catch (OutOfMemoryError e) {
                        msg = "Out of memory: try a shorter file.";
                    } catch (RuntimeException e) {
                        msg = "Enhancement failed: " + e;
                    }
                }
                final float[] result = out;
                final String m = msg;
                post(new Runnable() {
                    @Override
                    public void run() {
                        if (result != null && input == original) {
                            enhanced = result;
                        }
                        busy = false;
                        status = m;
                    }
                });
            }
        });
    }

    /** Plays the original ({@code enhancedOne} false) or the enhanced audio. */
    void play(boolean enhancedOne) {
        float[] samples = enhancedOne ? enhanced : original;
        if (samples == null) {
            setStatus("No " + (enhancedOne ? "enhanced" : "original") + " audio yet.");
            return;
        }
        String error = player.play(samples, sampleRate);
        if (error != null) {
            setStatus("Cannot play: " + error);
        }
    }

    void stopPlayback() {
        player.stop();
    }

    /** Stops the microphone and playback (the user left the app for good). */
    void stopAudio() {
        recorder.stop();
        player.stop();
    }

    /**
     * Times every bundled model at 1, 2, 4 (and 8) threads, up to the device's cores: the
     * median milliseconds of one segment and of its model call, and the real-time factor
     * ({@link Benchmark}). Each configuration gets its own interpreter, closed afterwards.
     */
    void benchmark() {
        progress = 0;
        benchmark = "Benchmark: " + BENCH_WARMUP + " warm-up + " + BENCH_RUNS
                + " timed segments per row, medians.\n" + Benchmark.HEADER;
        startWork("Benchmarking…");
        worker.execute(new Runnable() {
            @Override
            public void run() {
                List<String> list = models;
                int[] threads = Benchmark.threadCounts(Runtime.getRuntime().availableProcessors());
                int total = Math.max(1, list.size() * threads.length);
                int done = 0;
                if (list.isEmpty()) {
                    appendBenchmark("no bundled model (" + modelError + ")", 0, 1);
                }
                for (String model : list) {
                    ModelContract contract;
                    MappedByteBuffer buffer;
                    try {
                        contract = readContract(model);
                        buffer = mapAsset(model);
                    } catch (Throwable e) {
                        done += threads.length;
                        appendBenchmark(model + ": cannot load: " + e, done, total);
                        continue;
                    }
                    float[] segment = Benchmark.testSegment(contract.segmentSamples, contract.sampleRate);
                    for (int t : threads) {
                        String row;
                        TfliteRunner r = null;
                        try {
                            r = new TfliteRunner(buffer, contract, t);
                            TimedRunner timed = new TimedRunner(r, Benchmark.SYSTEM_CLOCK);
                            Enhancer e = new Enhancer(contract, timed, Segments.MergeMode.CROSSFADE);
                            row = Benchmark.measure(model, t, e, timed, segment, BENCH_WARMUP,
                                    BENCH_RUNS, Benchmark.SYSTEM_CLOCK).row();
                        } catch (Throwable e) {
                            row = model + " at " + t + " threads failed: " + e;
                        } finally {
                            if (r != null) {
                                r.close();
                            }
                        }
                        appendBenchmark(row, ++done, total);
                    }
                }
                finish("Benchmark done: RTF = segment ms / " + segmentMsText(list)
                        + " ms of audio; below 1 is faster than real time.");
            }
        });
    }

    private String segmentMsText(List<String> list) {
        if (enhancer != null) {
            ModelContract c = enhancer.contract();
            return String.format(Locale.US, "%.1f", 1000.0 * c.segmentSamples / c.sampleRate);
        }
        return list.isEmpty() ? "(no model)" : "segment";
    }

    private void appendBenchmark(final String line, final int done, final int total) {
        post(new Runnable() {
            @Override
            public void run() {
                benchmark += "\n" + line;
                progress = 100 * done / total;
            }
        });
    }

    // --- helpers ---------------------------------------------------------------------------

    private void startWork(String message) {
        busy = true;
        status = message;
        changed();
    }

    /** From the worker: ends the current job with a message. */
    private void finish(final String message) {
        post(new Runnable() {
            @Override
            public void run() {
                busy = false;
                status = message;
            }
        });
    }

    /** Runs {@code r} on the main thread, then tells the screen. */
    private void post(final Runnable r) {
        main.post(new Runnable() {
            @Override
            public void run() {
                r.run();
                changed();
            }
        });
    }

    private void changed() {
        if (listener != null) {
            listener.onSessionChanged();
        }
    }
}
