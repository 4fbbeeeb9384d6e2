"""Speech-enhancement metrics: PESQ-WB, STOI, SI-SDR and the composite CSIG/CBAK/COVL/SSNR.

Pure numpy/scipy plus the ``pesq`` and ``pystoi`` packages; no TensorFlow. Every
function takes 1-D float waveforms at 16 kHz, clean reference first.
"""

from imse_keras.metrics.composite import (
    composite,
    llr_frames,
    segmental_snr_frames,
    wss_frames,
)
from imse_keras.metrics.evaluate import METRICS, format_table, score_pair, summarize
from imse_keras.metrics.pesq_stoi import pesq_wb, stoi
from imse_keras.metrics.si_sdr import si_sdr

__all__ = [
    "METRICS",
    "composite",
    "format_table",
    "llr_frames",
    "pesq_wb",
    "score_pair",
    "segmental_snr_frames",
    "si_sdr",
    "stoi",
    "summarize",
    "wss_frames",
]
