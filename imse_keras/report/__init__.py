"""Self-contained HTML reports (spectrograms, metrics, audio players) of a run."""

from imse_keras.report.html import ReportItem, build_report, report_dirs, wav_bytes

__all__ = ["ReportItem", "build_report", "report_dirs", "wav_bytes"]
