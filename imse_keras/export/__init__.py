"""TFLite/LiteRT export of IMSE: graph, quantization policy, conversion, runner, validation.

Modules (import them directly; this package imports nothing heavy itself):

- :mod:`~imse_keras.export.policy`: :class:`QuantizationPolicy` and the four
  presets ``float32``, ``float16``, ``dynamic``, ``int8``.
- The device graph is the model's own core: :meth:`imse_keras.IMSE.export_graph`
  (frames-first ``[1, T, F]`` inputs; outputs mask and the phase's r/i maps).
- :mod:`~imse_keras.export.calibration`: representative data from real audio
  through the inference front end.
- :mod:`~imse_keras.export.convert`: :func:`convert_model`, policy + graph +
  data -> ``.tflite`` bytes, builtin ops only.
- :mod:`~imse_keras.export.pipeline`: :func:`export_tflite`, which writes the
  ``.tflite`` and its ``.json`` I/O contract (:mod:`~imse_keras.export.contract`).
- :mod:`~imse_keras.export.runner`: :class:`LiteRTModel` (callable like the
  Keras model) and :func:`tflite_backend` for :class:`imse_keras.enhance.Enhancer`.
- :mod:`~imse_keras.export.validate`: float-vs-TFLite PESQ/STOI/SNR report
  that raises when the PESQ drop exceeds its bound.

The runner, contract reader and flatbuffer tools need only ``ai-edge-litert``
and numpy; everything else needs TensorFlow.
"""
