"""Model architectures. All take 48x48x1 raw gray pixels (0..255, float32).

Normalisation is the first layer of every model (Keras-examples style), so
the exported TFLite file and the app can never disagree about it: the sidecar
says scale 1, offset 0.
"""
from __future__ import annotations

import keras
from keras import layers

from kise_desktop.emotions import NUM_EMOTIONS

INPUT_SHAPE = (48, 48, 1)


def _inputs() -> tuple[keras.KerasTensor, keras.KerasTensor]:
    inputs = keras.Input(shape=INPUT_SHAPE, name="gray_pixels")
    # 0..255 -> roughly zero-centred unit range.
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="normalise")(inputs)
    return inputs, x


def _head(x, dropout: float, num_classes: int):
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    return layers.Dense(num_classes, activation="softmax", name="probabilities")(x)


def mini_xception(width: float = 1.0, depth: int = 4, num_classes: int = NUM_EMOTIONS,
                  l2: float = 1e-4, dropout: float = 0.0) -> keras.Model:
    """The seed's mini_XCEPTION (Arriaga et al. 2017) with width/depth knobs.

    width scales every filter count (1.0 = the seed's 8/16/32/64/128);
    depth is the number of residual separable blocks (seed: 4).
    The paper's L2 of 0.01 makes BatchNorm statistics lag (see
    platform-notes.md), hence the smaller default.
    """
    reg = keras.regularizers.l2(l2) if l2 else None
    inputs, x = _inputs()
    base = max(4, int(round(8 * width)))
    for _ in range(2):
        x = layers.Conv2D(base, 3, use_bias=False, kernel_regularizer=reg)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    filters = base * 2
    for _ in range(depth):
        residual = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(x)
        residual = layers.BatchNormalization()(residual)
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, depthwise_regularizer=reg,
                                   pointwise_regularizer=reg)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, depthwise_regularizer=reg,
                                   pointwise_regularizer=reg)(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.add([x, residual])
        filters *= 2
    # The seed ends in a conv to num_classes + GAP; a GAP + dense head is equivalent and cheaper.
    outputs = _head(x, dropout, num_classes)
    return keras.Model(inputs, outputs, name=f"mini_xception_w{width:g}_d{depth}")


def _sep_bn_act(x, filters: int, name: str):
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_sep")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def inner_width(filters: int, ratio: float) -> int:
    """Channels inside a block: a multiple of 8 (what XNNPACK's kernels tile by), at least 8."""
    return filters if ratio >= 1.0 else max(8, int(round(filters * ratio / 8)) * 8)


def kise_sepnet(widths: tuple[int, ...] = (32, 64, 128, 256, 256), num_classes: int = NUM_EMOTIONS,
                dropout: float = 0.3, spatial_dropout: float = 0.05, block_convs: int = 2,
                inner_ratio: float = 1.0) -> keras.Model:
    """A compact Xception-style CNN built for a laptop CPU.

    A strided 3x3 stem takes 48x48 straight to 24x24: on a CPU, training time
    is dominated by memory traffic of full-resolution activations, and this
    one change made an epoch ~2.5x faster than a stride-1 stem (measured on
    this 2-core machine). Then residual blocks of two depthwise-separable
    convs, each halving the resolution (24 -> 12 -> 6 -> 3 -> 2) and widening.
    Separable convs keep multiply-adds and parameters small so a face
    classifies in well under a millisecond on one thread. block_convs > 2
    adds separable convs per block (depth without width). inner_ratio < 1
    narrows the convs inside each block (not its output, which the shortcut
    adds to), where most multiply-adds are: training/prune.py cuts a trained
    full-width network down to it.
    """
    stem, *stages = widths
    inputs, x = _inputs()
    x = layers.Conv2D(stem, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for i, filters in enumerate(stages):
        name = f"block{i + 1}"
        shortcut = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False, name=f"{name}_short")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_short_bn")(shortcut)
        inner = inner_width(filters, inner_ratio)
        x = _sep_bn_act(x, inner, f"{name}_a")
        for extra in range(block_convs - 2):  # optional extra depth at the same width
            x = _sep_bn_act(x, inner, f"{name}_a{extra + 2}")
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_b_sep")(x)
        x = layers.BatchNormalization(name=f"{name}_b_bn")(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
        x = layers.add([x, shortcut], name=f"{name}_add")
        x = layers.Activation("relu", name=f"{name}_out")(x)
        if spatial_dropout:
            x = layers.SpatialDropout2D(spatial_dropout, name=f"{name}_sdrop")(x)
    outputs = _head(x, dropout, num_classes)
    return keras.Model(inputs, outputs, name="kise_sepnet")


ARCHITECTURES = {"mini_xception": mini_xception, "kise_sepnet": kise_sepnet}


def build_model(name: str, **kwargs) -> keras.Model:
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose from {sorted(ARCHITECTURES)}")
    if "widths" in kwargs:
        kwargs["widths"] = tuple(kwargs["widths"])
    return ARCHITECTURES[name](**kwargs)
