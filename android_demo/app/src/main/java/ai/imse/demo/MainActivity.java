package ai.imse.demo;

import ai.imse.core.Enhancer;
import ai.imse.core.ModelContract;
import ai.imse.core.Segments;
import ai.imse.core.Wav;
import android.Manifest;
import android.app.Activity;
import android.content.ActivityNotFoundException;
import android.content.Intent;
import android.content.pm.PackageManager;
import android.content.res.AssetFileDescriptor;
import android.net.Uri;
import android.os.Bundle;
import android.os.SystemClock;
import android.view.View;
import android.widget.Button;
import android.widget.ProgressBar;
import android.widget.TextView;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One screen: record or open a WAV, enhance it on a background thread, play both versions,
 * save the result, and show the real-time factor measured on this device.
 *
 * <p>All signal processing is in {@code :core}; {@link TfliteRunner} is the only LiteRT code.
 * Written without lambdas or AndroidX so it also compiles against the plain platform API.
 */
public class MainActivity extends Activity {

    private static final int REQ_MIC = 1;
    private static final int REQ_OPEN = 2;
    private static final int REQ_SAVE = 3;
    private static final long MAX_FILE_BYTES = 200L * 1024 * 1024;

    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private final Recorder recorder = new Recorder();
    private final Player player = new Player();

    private TextView modelInfo;
    private TextView status;
    private ProgressBar progress;
    private Button recordButton;
    private Button openButton;
    private Button enhanceButton;
    private Button saveButton;

    // UI-thread state.
    private float[] original;
    private float[] enhanced;
    private int sampleRate;
    private String sourceName = "";
    private boolean busy;

    // Worker-thread state (created lazily, used only on the worker).
    private TfliteRunner runner;
    private Enhancer enhancer;
    private String modelError = "the model is still loading";

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        setContentView(R.layout.activity_main);
        modelInfo = (TextView) findViewById(R.id.model_info);
        status = (TextView) findViewById(R.id.status);
        progress = (ProgressBar) findViewById(R.id.progress);
        recordButton = (Button) findViewById(R.id.record);
        openButton = (Button) findViewById(R.id.open);
        enhanceButton = (Button) findViewById(R.id.enhance);
        saveButton = (Button) findViewById(R.id.save);

        recordButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                onRecordClicked();
            }
        });
        openButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                openWav();
            }
        });
        enhanceButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                enhance();
            }
        });
        findViewById(R.id.play_original).setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                play(original, "original");
            }
        });
        findViewById(R.id.play_enhanced).setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                play(enhanced, "enhanced");
            }
        });
        findViewById(R.id.stop_playback).setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                player.stop();
            }
        });
        saveButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                save();
            }
        });
        updateButtons();

        modelInfo.setText("Loading the model…");
        worker.execute(new Runnable() {
            @Override
            public void run() {
                final String info = loadModel();
                ui(new Runnable() {
                    @Override
                    public void run() {
                        modelInfo.setText(info);
                    }
                });
            }
        });
    }

    @Override
    protected void onDestroy() {
        recorder.stop();
        player.stop();
        worker.execute(new Runnable() {
            @Override
            public void run() {
                if (runner != null) {
                    runner.close();
                    runner = null;
                }
            }
        });
        worker.shutdown();
        super.onDestroy();
    }

    // --- model --------------------------------------------------------------------------

    /** On the worker: finds a .tflite + .json pair in the assets and builds the enhancer. */
    private String loadModel() {
        try {
            String[] files = getAssets().list("");
            String chosen = null;
            if (files != null) {
                for (String f : files) {
                    if (!f.endsWith(".tflite") || !has(files, stem(f) + ".json")) {
                        continue;
                    }
                    // Prefer the int8 export; otherwise the first model with a contract.
                    if (chosen == null || (f.contains("int8") && !chosen.contains("int8"))) {
                        chosen = f;
                    }
                }
            }
            if (chosen == null) {
                modelError = "no model in the assets";
                return "No model in the app's assets. Export one into the repository's tflite/"
                        + " folder (a .tflite with its .json contract) and rebuild the app.";
            }
            ModelContract contract;
            InputStream in = getAssets().open(stem(chosen) + ".json");
            try {
                contract = ModelContract.read(in);
            } finally {
                in.close();
            }
            int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
            runner = new TfliteRunner(mapAsset(chosen), contract, threads);
            enhancer = new Enhancer(contract, runner, Segments.MergeMode.CROSSFADE);
            return String.format(Locale.US,
                    "Model %s (%s, %s I/O), %d CPU threads. Works on %.2f s segments at %d Hz.",
                    chosen, contract.mode, contract.input("mag_c").dtype, threads,
                    contract.segmentSamples / (double) contract.sampleRate, contract.sampleRate);
        } catch (Throwable e) { // IOException, bad contract, interpreter errors, no native lib
            enhancer = null;
            modelError = e.toString();
            return "Cannot load the model: " + e;
        }
    }

    private MappedByteBuffer mapAsset(String name) throws IOException {
        AssetFileDescriptor fd = getAssets().openFd(name); // fails if compressed: see noCompress
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

    private static boolean has(String[] files, String name) {
        for (String f : files) {
            if (f.equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static String stem(String file) {
        int dot = file.lastIndexOf('.');
        return dot < 0 ? file : file.substring(0, dot);
    }

    // --- recording ----------------------------------------------------------------------

    private void onRecordClicked() {
        if (recorder.isRunning()) {
            recorder.stop();
            return;
        }
        if (checkSelfPermission(Manifest.permission.RECORD_AUDIO)
                != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(new String[] {Manifest.permission.RECORD_AUDIO}, REQ_MIC);
            return;
        }
        startRecording();
    }

    @Override
    public void onRequestPermissionsResult(int requestCode, String[] permissions, int[] results) {
        super.onRequestPermissionsResult(requestCode, permissions, results);
        if (requestCode != REQ_MIC) {
            return;
        }
        if (results.length > 0 && results[0] == PackageManager.PERMISSION_GRANTED) {
            startRecording();
        } else {
            status.setText("Microphone permission denied. You can still open a WAV file, or grant"
                    + " the permission in the system settings and try again.");
        }
    }

    private void startRecording() {
        player.stop();
        String error = recorder.start(new Recorder.Listener() {
            @Override
            public void onFinished(final float[] samples, final String error) {
                ui(new Runnable() {
                    @Override
                    public void run() {
                        onRecorded(samples, error);
                    }
                });
            }
        });
        if (error != null) {
            status.setText("Cannot record: " + error);
            return;
        }
        status.setText("Recording at " + Recorder.SAMPLE_RATE + " Hz… (at most "
                + Recorder.MAX_SECONDS + " s)");
        updateButtons();
    }

    private void onRecorded(float[] samples, String error) {
        updateButtons();
        if (samples.length == 0) {
            status.setText("The recording is empty" + (error == null ? "." : ": " + error));
            return;
        }
        setOriginal(samples, Recorder.SAMPLE_RATE, "recording");
        if (error != null) {
            status.append("\n(" + error + ")");
        }
    }

    // --- opening and saving files --------------------------------------------------------

    private void openWav() {
        Intent intent = new Intent(Intent.ACTION_OPEN_DOCUMENT);
        intent.addCategory(Intent.CATEGORY_OPENABLE);
        intent.setType("audio/*");
        try {
            startActivityForResult(intent, REQ_OPEN);
        } catch (ActivityNotFoundException e) {
            status.setText("No file picker available on this device.");
        }
    }

    private void save() {
        if (enhanced == null) {
            status.setText("Nothing to save yet: enhance something first.");
            return;
        }
        Intent intent = new Intent(Intent.ACTION_CREATE_DOCUMENT);
        intent.addCategory(Intent.CATEGORY_OPENABLE);
        intent.setType("audio/wav");
        intent.putExtra(Intent.EXTRA_TITLE, stem(sourceName) + "_enhanced.wav");
        try {
            startActivityForResult(intent, REQ_SAVE);
        } catch (ActivityNotFoundException e) {
            status.setText("No document provider available to save to.");
        }
    }

    @Override
    protected void onActivityResult(int requestCode, int resultCode, Intent data) {
        super.onActivityResult(requestCode, resultCode, data);
        if (resultCode != RESULT_OK || data == null || data.getData() == null) {
            return;
        }
        final Uri uri = data.getData();
        if (requestCode == REQ_OPEN) {
            readWav(uri);
        } else if (requestCode == REQ_SAVE) {
            writeWav(uri, enhanced, sampleRate);
        }
    }

    private void readWav(final Uri uri) {
        setBusy(true, "Reading " + uri.getLastPathSegment() + "…");
        worker.execute(new Runnable() {
            @Override
            public void run() {
                String error = null;
                Wav.Audio audio = null;
                try {
                    InputStream in = getContentResolver().openInputStream(uri);
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
                ui(new Runnable() {
                    @Override
                    public void run() {
                        setBusy(false, null);
                        if (err != null) {
                            status.setText(err);
                        } else {
                            String name = uri.getLastPathSegment();
                            setOriginal(result.samples, result.sampleRate, name == null ? "audio" : name);
                            if (result.channels > 1) {
                                status.append("\n(" + result.channels + " channels mixed to mono)");
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

    private void writeWav(final Uri uri, final float[] samples, final int rate) {
        if (samples == null) {
            return;
        }
        worker.execute(new Runnable() {
            @Override
            public void run() {
                String msg;
                try {
                    OutputStream out = getContentResolver().openOutputStream(uri);
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
                final String m = msg;
                ui(new Runnable() {
                    @Override
                    public void run() {
                        status.setText(m);
                    }
                });
            }
        });
    }

    // --- enhancement and playback --------------------------------------------------------

    private void setOriginal(float[] samples, int rate, String name) {
        player.stop();
        original = samples;
        sampleRate = rate;
        sourceName = name;
        enhanced = null;
        progress.setProgress(0);
        status.setText(String.format(Locale.US, "Loaded %s: %.2f s at %d Hz. Tap Enhance.",
                name, samples.length / (double) rate, rate));
        updateButtons();
    }

    private void enhance() {
        if (original == null) {
            status.setText("Record or open some audio first.");
            return;
        }
        final float[] input = original;
        final int rate = sampleRate;
        setBusy(true, "Enhancing…");
        progress.setProgress(0);
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
                                ui(new Runnable() {
                                    @Override
                                    public void run() {
                                        progress.setProgress(100 * done / total);
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
                final String m = msg;
                final float[] result = out;
                ui(new Runnable() {
                    @Override
                    public void run() {
                        if (result != null && input == original) {
                            enhanced = result;
                        }
                        setBusy(false, m);
                    }
                });
            }
        });
    }

    private void play(float[] samples, String what) {
        if (samples == null) {
            status.setText("No " + what + " audio yet.");
            return;
        }
        String error = player.play(samples, sampleRate);
        if (error != null) {
            status.setText("Cannot play: " + error);
        }
    }

    // --- UI helpers ----------------------------------------------------------------------

    private void setBusy(boolean b, String message) {
        busy = b;
        if (message != null) {
            status.setText(message);
        }
        updateButtons();
    }

    private void updateButtons() {
        boolean rec = recorder.isRunning();
        recordButton.setText(rec ? R.string.stop_recording : R.string.record);
        recordButton.setEnabled(!busy);
        openButton.setEnabled(!busy && !rec);
        enhanceButton.setEnabled(!busy && !rec && original != null);
        saveButton.setEnabled(!busy && enhanced != null);
    }

    /** Runs on the UI thread unless the activity is gone. */
    private void ui(final Runnable r) {
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                if (!isFinishing() && !isDestroyed()) {
                    r.run();
                }
            }
        });
    }
}
