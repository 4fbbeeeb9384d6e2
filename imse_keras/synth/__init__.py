"""Synthetic speech, noise and noisy mixtures, entirely offline.

- :mod:`~imse_keras.synth.speech`: text-to-speech with eSpeak NG (needs the
  ``espeakng-loader`` wheel).
- :mod:`~imse_keras.synth.noise`: white, pink, brown, babble, hum and click
  noise, and noise read from recordings.
- :mod:`~imse_keras.synth.mix`: mixing at a set SNR and writing clean/noisy
  example pairs (``make demo``, ``imse make-demo-data``).

Nothing here imports TensorFlow or Keras.
"""

from imse_keras.synth.mix import (
    make_example,
    make_pair,
    mix_at_snr,
    normalize_pair,
    peak_normalize,
)
from imse_keras.synth.noise import NOISE_TYPES, fit_length, load_noise, make_noise
from imse_keras.synth.speech import SENTENCES, VOICES, SynthesisError, synthesize

__all__ = [
    "NOISE_TYPES",
    "SENTENCES",
    "VOICES",
    "SynthesisError",
    "fit_length",
    "load_noise",
    "make_example",
    "make_noise",
    "make_pair",
    "mix_at_snr",
    "normalize_pair",
    "peak_normalize",
    "synthesize",
]
