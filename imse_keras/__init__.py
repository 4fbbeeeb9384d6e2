"""imse-keras: the IMSE speech-enhancement network in Keras 3, with LiteRT export."""

__version__ = "0.1.0"
