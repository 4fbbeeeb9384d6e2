"""Offline text-to-speech with eSpeak NG, for demo and test data.

The speech comes from ``libespeak-ng``, which the ``espeakng-loader`` wheel
ships together with its voice data. The wheel only tells where the library
and the data are; this module drives the library's C API through ctypes.

**Determinism.** The synthesiser keeps state in C ``static`` variables that
``espeak_Terminate`` does not reset (the pitch-flutter phase, an automatic
gain control, a glottal cycle counter), so the same text synthesised twice in
one process comes out a few samples longer or shorter each time, depending on
what was spoken before. To make :func:`synthesize` a pure function of its
arguments, every call loads a private copy of the library afresh (``dlopen``),
initialises it, speaks, and unloads it again (``dlclose``), which restores the
pristine static state. That costs about 5 ms per call. The copy is private
(a file in a temporary directory) so that another user of libespeak-ng in the
same process, e.g. a phonemizer, neither shares nor disturbs its state.
The breath noise of some voice variants (``+f3``) comes from espeak's own
random generator, which ``espeak_Initialize`` seeds from the clock; it is
reseeded with a fixed value before each utterance
(``espeak_ng_SetRandSeed``). With both measures the output is identical
across calls and processes.

Layouts: waveforms are float32 ``[n_samples]``, full scale ±1.
"""

from __future__ import annotations

import atexit
import ctypes
import math
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

__all__ = [
    "ESPEAK_SAMPLE_RATE",
    "SENTENCES",
    "SynthesisError",
    "VOICES",
    "synthesize",
]

#: Voices known to work with the ``espeakng-loader`` 0.2.4 data. A ``+name``
#: suffix selects a variant from ``espeak-ng-data/voices/!v``.
VOICES = ("en-us", "en", "en-gb-x-rp", "en+f3", "en-us+m3")

#: Short original English sentences (Harvard-sentence style, not the
#: Harvard list), each about 2-3 s at the default rate.
SENTENCES = (
    "The kettle began to whistle just as the phone rang.",
    "A narrow bridge crosses the river below the old mill.",
    "Please leave your muddy boots by the back door.",
    "The orange cat slept all afternoon on the warm windowsill.",
    "We counted seven sailboats drifting past the harbor wall.",
    "Fresh bread tastes best while it is still warm.",
    "The library closes early on the first Friday of each month.",
    "Thin clouds drifted slowly across the pale morning sky.",
    "He tied the parcel with a length of rough brown string.",
    "The children laughed as the kite climbed over the hill.",
    "A cold wind rattled the shutters all through the night.",
    "She painted the garden fence a bright shade of green.",
    "The train to the coast leaves at a quarter past nine.",
    "Heavy rain kept the farmers out of the fields for a week.",
    "The old clock in the hallway still keeps perfect time.",
    "Stack the plates carefully and wipe the table clean.",
    "A flock of geese flew low over the frozen pond.",
    "The soup needs a pinch of salt and a little more pepper.",
    "They found a silver coin buried in the garden soil.",
    "The lamp flickered twice and then went dark.",
    "Our neighbor grows tomatoes and beans along the wall.",
    "The map was folded so often that it tore along the creases.",
    "Bright lanterns lined the path down to the lake.",
    "The doctor asked him to breathe slowly and deeply.",
    "A small boat rocked gently against the wooden pier.",
    "Turn left at the bakery and walk two more blocks.",
    "The puppy chewed a hole right through my favorite sock.",
    "Snow covered every roof before anyone woke up.",
    "The teacher wrote the answer in large letters on the board.",
    "Warm tea with honey can soothe a sore throat.",
    "The band played in the town square until midnight.",
    "A sudden gust blew the letters off the desk.",
    "Mix the flour and the eggs before you add the milk.",
    "The mountain road twists and turns for many miles.",
    "Her voice carried clearly across the quiet room.",
    "The fisherman mended his net while the tide came in.",
    "Every spring the swallows return to the same barn.",
    "The engine coughed, sputtered, and finally started.",
    "Keep the receipt in case the shoes do not fit.",
    "The stars seemed brighter once the city lights went out.",
    "A jar of buttons sat forgotten on the top shelf.",
    "The bus was late, so we walked home in the drizzle.",
)

#: Hz; what ``espeak_Initialize`` reports for the bundled voices.
ESPEAK_SAMPLE_RATE = 22050

# Constants of espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # return an error instead of calling exit()
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_PARAM_RATE = 1
_PARAM_PITCH = 3
_EE_OK = 0
_EE_NOT_FOUND = 2
_RATE_RANGE = (80, 450)  # words per minute, espeakRATE_MINIMUM/MAXIMUM
_PITCH_RANGE = (0, 100)  # espeak's default is 50

# Seed for libespeak-ng's own noise generator.
_RAND_SEED = 12345

# Silence kept at either end of an utterance, seconds, and the level below
# which a sample counts as silence, dB re the utterance's peak.
_KEEP_SILENCE_S = 0.1
_SILENCE_DB = -50.0


class SynthesisError(RuntimeError):
    """Speech could not be synthesised (no engine, unknown voice, no audio)."""


# espeak_SYNTH_CALLBACK: int (short *wav, int numsamples, espeak_EVENT *events).
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

# int16 chunks of the utterance in progress; only touched under _LOCK.
_chunks: list[np.ndarray] = []


def _collect(wav, num_samples, events):
    if num_samples > 0 and wav:
        _chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
    return 0  # 0 = carry on


# Module-level so ctypes keeps the C thunk alive while libespeak-ng holds it.
_CALLBACK = _SynthCallback(_collect)

_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _unload(handle: int) -> None:
    import _ctypes

    if sys.platform == "win32":
        _ctypes.FreeLibrary(handle)
    else:
        _ctypes.dlclose(handle)


class _Engine:
    """A private copy of libespeak-ng and the path of its voice data."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as e:
            raise SynthesisError(
                "speech synthesis needs libespeak-ng from the espeakng-loader wheel: "
                "pip install espeakng-loader"
            ) from e
        try:
            source = Path(espeakng_loader.get_library_path())
            self.data_path = Path(espeakng_loader.get_data_path())
        except Exception as e:  # the loader raises a bare RuntimeError for missing data
            raise SynthesisError(f"espeakng-loader is installed but broken: {e}") from e
        if not source.is_file():
            raise SynthesisError(f"espeakng-loader's library is missing: {source}")
        self._tmpdir = tempfile.mkdtemp(prefix="imse-espeak-")
        atexit.register(shutil.rmtree, self._tmpdir, ignore_errors=True)
        self.library_path = Path(self._tmpdir) / source.name
        shutil.copyfile(source, self.library_path)

    def has_variant(self, variant: str) -> bool:
        return (self.data_path / "voices" / "!v" / variant).is_file()

    def speak(self, text: bytes, voice: bytes, rate: int, pitch: int | None) -> np.ndarray:
        """One utterance from a freshly loaded library; int16 ``[n]`` at 22050 Hz."""
        try:
            lib = ctypes.CDLL(str(self.library_path))
        except OSError as e:
            raise SynthesisError(f"cannot load libespeak-ng ({e})") from e
        try:
            lib.espeak_Initialize.argtypes = [
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_int,
            ]
            lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_Synth.argtypes = [
                ctypes.c_char_p,
                ctypes.c_size_t,
                ctypes.c_uint,
                ctypes.c_int,
                ctypes.c_uint,
                ctypes.c_uint,
                ctypes.c_void_p,
                ctypes.c_void_p,
            ]
            rate_hz = lib.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(), _INITIALIZE_DONT_EXIT
            )
            if rate_hz != ESPEAK_SAMPLE_RATE:
                raise SynthesisError(
                    f"espeak_Initialize failed or reported {rate_hz} Hz "
                    f"(expected {ESPEAK_SAMPLE_RATE}); data path {self.data_path}"
                )
            try:
                lib.espeak_SetSynthCallback(_CALLBACK)
                status = lib.espeak_SetVoiceByName(voice)
                if status == _EE_NOT_FOUND:
                    raise SynthesisError(
                        f"unknown espeak-ng voice {voice.decode()!r}; known to work: "
                        f"{', '.join(VOICES)}"
                    )
                if status != _EE_OK:
                    raise SynthesisError(
                        f"espeak_SetVoiceByName({voice.decode()!r}) failed with status {status}"
                    )
                lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
                if pitch is not None:
                    lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
                # Breath noise (e.g. the f3 variant) draws on espeak's own
                # generator, which espeak_Initialize seeds from the clock.
                set_seed = getattr(lib, "espeak_ng_SetRandSeed", None)  # espeak-ng >= 1.52
                if set_seed is not None:
                    set_seed(ctypes.c_long(_RAND_SEED))
                _chunks.clear()
                status = lib.espeak_Synth(
                    text, len(text) + 1, 0, 0, 0, _CHARS_UTF8 | _ENDPAUSE, None, None
                )
                if status != _EE_OK:
                    raise SynthesisError(f"espeak_Synth failed with status {status}")
                lib.espeak_Synchronize()
                audio = np.concatenate(_chunks) if _chunks else np.zeros(0, np.int16)
            finally:
                _chunks.clear()
                lib.espeak_Terminate()
        finally:
            _unload(lib._handle)
        return audio


def _engine() -> _Engine:
    # Callers hold _LOCK.
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or int(value) != value or not low <= value <= high:
        raise ValueError(
            f"{name} must be an integer in [{low}, {high}]. Received: {name}={value!r}"
        )
    return int(value)


def _trim_silence(x: np.ndarray, sample_rate: int) -> np.ndarray:
    peak = float(np.max(np.abs(x)))
    loud = np.flatnonzero(np.abs(x) > peak * 10.0 ** (_SILENCE_DB / 20.0))
    keep = int(round(_KEEP_SILENCE_S * sample_rate))
    start = max(int(loud[0]) - keep, 0)
    stop = min(int(loud[-1]) + 1 + keep, x.shape[0])
    return x[start:stop]


def synthesize(
    text: str,
    voice: str = "en-us",
    rate: int = 160,
    pitch: int | None = None,
    sample_rate: int = 16000,
) -> np.ndarray:
    """Speak ``text`` with eSpeak NG.

    The result depends only on the arguments (see the module docstring) and
    is trimmed to at most 0.1 s of silence (samples below -50 dB re peak) at
    either end. Calls from several threads are serialised.

    Args:
        text: plain UTF-8 text (no SSML, no ``[[phonemes]]``).
        voice: an espeak-ng voice name, optionally with a ``+variant``
            suffix; see :data:`VOICES`.
        rate: speaking rate, words per minute, 80 to 450.
        pitch: base pitch, 0 to 100 (espeak's scale); ``None`` keeps the
            voice's own (50).
        sample_rate: output rate, Hz. espeak speaks at 22050 Hz; other rates
            are reached with a polyphase filter (``resample_poly``, exact
            integer ratio, 320/441 for 16 kHz).

    Returns:
        float32 ``[n_samples]`` at ``sample_rate``.

    Raises:
        SynthesisError: espeakng-loader is not installed, the voice or its
            variant is unknown, or the text produced no audio.
        ValueError: ``rate``, ``pitch`` or ``sample_rate`` out of range.
        TypeError: ``text`` or ``voice`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str. Received: {type(text).__name__}")
    if not isinstance(voice, str):
        raise TypeError(f"voice must be a str. Received: {type(voice).__name__}")
    rate = _check_int("rate", rate, *_RATE_RANGE)
    if pitch is not None:
        pitch = _check_int("pitch", pitch, *_PITCH_RANGE)
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
        raise ValueError(
            f"sample_rate must be a positive integer. Received: sample_rate={sample_rate!r}"
        )
    sample_rate = int(sample_rate)
    name, _, variant = voice.partition("+")
    if not name or not voice.isascii() or "\0" in voice:
        raise SynthesisError(
            f"unknown espeak-ng voice {voice!r}; known to work: {', '.join(VOICES)}"
        )

    with _LOCK:
        engine = _engine()
        # espeak silently ignores an unknown variant; we do not.
        if variant and not engine.has_variant(variant):
            raise SynthesisError(
                f"unknown espeak-ng voice variant {variant!r} in {voice!r}; variants live in "
                f"{engine.data_path / 'voices' / '!v'}"
            )
        pcm = engine.speak(text.encode("utf-8"), voice.encode("ascii"), rate, pitch)

    if pcm.size == 0 or not np.any(pcm):
        raise SynthesisError(f"espeak-ng produced no audio for the text {text!r}")
    x = pcm.astype(np.float32) / 32768.0
    if sample_rate != ESPEAK_SAMPLE_RATE:
        g = math.gcd(sample_rate, ESPEAK_SAMPLE_RATE)
        x = resample_poly(x, sample_rate // g, ESPEAK_SAMPLE_RATE // g).astype(np.float32)
    return np.ascontiguousarray(_trim_silence(x, sample_rate))
