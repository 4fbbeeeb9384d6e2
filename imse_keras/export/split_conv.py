"""A 1x1 convolution over a channel concatenation, computed per input.

``conv(concat([a, b]))`` equals ``conv_a(a) + conv_b(b) + bias`` with the
kernel split along its input channels. In an int8 graph the concatenation
forces one scale on all its inputs; the model's first layer concatenates the
compressed magnitude (0 to about 10) with the phase (-pi to pi), so a shared
scale would cost the phase about half of its resolution. Split, each input
keeps its own scale.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["SplitInputConv"]


class SplitInputConv(keras.layers.Layer):
    """Apply a trained 1x1 ``Conv2D`` to a list of tensors as if concatenated.

    Not serialisable: it exists only inside an export graph and reads the
    trained layer's weights.

    Args:
        conv: a built ``keras.layers.Conv2D`` with a 1x1 kernel and stride 1.

    Shape:
        ``[[B, T, F, C1], [B, T, F, C2], ...]`` with ``sum(Ci)`` equal to the
        conv's input channels -> ``[B, T, F, filters]``.
    """

    def __init__(self, conv: keras.layers.Conv2D, **kwargs):
        if not isinstance(conv, keras.layers.Conv2D) or tuple(conv.kernel_size) != (1, 1):
            raise ValueError(f"Expected a 1x1 Conv2D. Received: {conv!r}")
        if tuple(conv.strides) != (1, 1) or tuple(conv.dilation_rate) != (1, 1):
            raise ValueError("The conv must have stride 1 and no dilation.")
        super().__init__(**kwargs)
        self.conv = conv

    def call(self, inputs):
        kernel = self.conv.kernel  # [1, 1, C_in, filters]
        total = kernel.shape[2]
        if sum(x.shape[-1] for x in inputs) != total:
            raise ValueError(
                f"The inputs have {[x.shape[-1] for x in inputs]} channels; the conv takes {total}."
            )
        out, start = None, 0
        for x in inputs:
            width = x.shape[-1]
            y = ops.conv(x, kernel[:, :, start : start + width, :], padding="valid")
            out = y if out is None else out + y
            start += width
        if self.conv.use_bias:
            out = out + self.conv.bias
        return out

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0][:-1]) + (self.conv.filters,)
