package ai.imse.demo;

import android.Manifest;
import android.app.Activity;
import android.content.ActivityNotFoundException;
import android.content.Intent;
import android.content.pm.PackageManager;
import android.os.Bundle;
import android.view.View;
import android.view.WindowInsets;
import android.widget.Button;
import android.widget.ProgressBar;
import android.widget.TextView;

/**
 * The one screen: record or open a WAV, enhance it, play both versions, save the result, and
 * benchmark every bundled model on this device.
 *
 * <p>It holds no state and does no work: both belong to {@link Session}, which outlives this
 * Activity, so a configuration change only redraws. Files are picked with the Storage Access
 * Framework ({@code ACTION_OPEN_DOCUMENT} / {@code ACTION_CREATE_DOCUMENT}, no storage
 * permission). Written without lambdas or AndroidX so it also compiles against the plain
 * platform API.
 */
public class MainActivity extends Activity implements Session.Listener {

    private static final int REQ_MIC = 1;
    private static final int REQ_OPEN = 2;
    private static final int REQ_SAVE = 3;

    private Session session;
    private TextView modelInfo;
    private TextView status;
    private TextView benchmark;
    private ProgressBar progress;
    private Button recordButton;
    private Button openButton;
    private Button enhanceButton;
    private Button saveButton;
    private Button benchmarkButton;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        setContentView(R.layout.activity_main);
        session = Session.get(this);
        applySystemBarInsets(findViewById(R.id.root));
        modelInfo = (TextView) findViewById(R.id.model_info);
        status = (TextView) findViewById(R.id.status);
        benchmark = (TextView) findViewById(R.id.benchmark_result);
        progress = (ProgressBar) findViewById(R.id.progress);
        recordButton = (Button) findViewById(R.id.record);
        openButton = (Button) findViewById(R.id.open);
        enhanceButton = (Button) findViewById(R.id.enhance);
        saveButton = (Button) findViewById(R.id.save);
        benchmarkButton = (Button) findViewById(R.id.benchmark);

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
                session.enhance();
            }
        });
        findViewById(R.id.play_original).setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                session.play(false);
            }
        });
        findViewById(R.id.play_enhanced).setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                session.play(true);
            }
        });
        findViewById(R.id.stop_playback).setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                session.stopPlayback();
            }
        });
        saveButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                save();
            }
        });
        benchmarkButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                session.benchmark();
            }
        });
    }

    /**
     * Android 15 (targetSdk 35) draws every app edge to edge, under the status and navigation
     * bars and into a display cutout. The scrolling root is padded by those insets (its XML
     * padding kept on top) and does not clip its padding, so content scrolls under the
     * translucent bars but can always be scrolled clear of them. {@code getSystemWindowInset*}
     * (API 20) is what API 30+ computes as system bars + display cutout for this window.
     */
    private static void applySystemBarInsets(final View root) {
        final int left = root.getPaddingLeft();
        final int top = root.getPaddingTop();
        final int right = root.getPaddingRight();
        final int bottom = root.getPaddingBottom();
        root.setOnApplyWindowInsetsListener(new View.OnApplyWindowInsetsListener() {
            @Override
            public WindowInsets onApplyWindowInsets(View v, WindowInsets insets) {
                v.setPadding(left + insets.getSystemWindowInsetLeft(),
                        top + insets.getSystemWindowInsetTop(),
                        right + insets.getSystemWindowInsetRight(),
                        bottom + insets.getSystemWindowInsetBottom());
                return insets.consumeSystemWindowInsets();
            }
        });
        root.requestApplyInsets();
    }

    @Override
    protected void onStart() {
        super.onStart();
        session.attach(this);
    }

    @Override
    protected void onStop() {
        session.detach(this);
        super.onStop();
    }

    @Override
    protected void onDestroy() {
        // Leaving the app for good (Back, not a configuration change): stop the microphone and
        // the speaker. A running enhancement or benchmark finishes in the session.
        if (isFinishing() && !isChangingConfigurations()) {
            session.stopAudio();
        }
        super.onDestroy();
    }

    @Override
    public void onSessionChanged() {
        modelInfo.setText(session.modelInfo());
        status.setText(session.status());
        benchmark.setText(session.benchmarkText());
        benchmark.setVisibility(session.benchmarkText().isEmpty() ? View.GONE : View.VISIBLE);
        progress.setProgress(session.progress());
        boolean busy = session.busy();
        boolean rec = session.recording();
        recordButton.setText(rec ? R.string.stop_recording : R.string.record);
        recordButton.setEnabled(!busy);
        openButton.setEnabled(!busy && !rec);
        enhanceButton.setEnabled(!busy && !rec && session.hasOriginal());
        saveButton.setEnabled(!busy && session.hasEnhanced());
        benchmarkButton.setEnabled(!busy && !rec);
    }

    // --- microphone permission -------------------------------------------------------------

    private void onRecordClicked() {
        if (!session.recording() && checkSelfPermission(Manifest.permission.RECORD_AUDIO)
                != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(new String[] {Manifest.permission.RECORD_AUDIO}, REQ_MIC);
            return;
        }
        session.toggleRecording();
    }

    @Override
    public void onRequestPermissionsResult(int requestCode, String[] permissions, int[] results) {
        super.onRequestPermissionsResult(requestCode, permissions, results);
        if (requestCode != REQ_MIC) {
            return;
        }
        if (results.length > 0 && results[0] == PackageManager.PERMISSION_GRANTED) {
            session.toggleRecording();
        } else {
            session.setStatus("Microphone permission denied. You can still open a WAV file, or"
                    + " grant the permission in the system settings and try again.");
        }
    }

    // --- Storage Access Framework ----------------------------------------------------------

    private void openWav() {
        Intent intent = new Intent(Intent.ACTION_OPEN_DOCUMENT);
        intent.addCategory(Intent.CATEGORY_OPENABLE);
        intent.setType("audio/*");
        try {
            startActivityForResult(intent, REQ_OPEN);
        } catch (ActivityNotFoundException e) {
            session.setStatus("No file picker available on this device.");
        }
    }

    private void save() {
        if (!session.hasEnhanced()) {
            session.setStatus("Nothing to save yet: enhance something first.");
            return;
        }
        Intent intent = new Intent(Intent.ACTION_CREATE_DOCUMENT);
        intent.addCategory(Intent.CATEGORY_OPENABLE);
        intent.setType("audio/wav");
        intent.putExtra(Intent.EXTRA_TITLE, session.suggestedSaveName());
        try {
            startActivityForResult(intent, REQ_SAVE);
        } catch (ActivityNotFoundException e) {
            session.setStatus("No document provider available to save to.");
        }
    }

    /** Also delivered to a recreated instance when the picker was open during a rotation. */
    @Override
    protected void onActivityResult(int requestCode, int resultCode, Intent data) {
        super.onActivityResult(requestCode, resultCode, data);
        if (resultCode != RESULT_OK || data == null || data.getData() == null) {
            return;
        }
        if (requestCode == REQ_OPEN) {
            session.open(data.getData());
        } else if (requestCode == REQ_SAVE) {
            session.save(data.getData());
        }
    }
}
