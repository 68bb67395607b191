"""Cut a trained full-width `kise_sepnet` down to a narrower one (`inner_ratio` < 1).

Inside each residual block, the outputs of the first separable convs (a, a2,
...) feed only the next separable conv, so channels there can be dropped
without touching the block's output or its shortcut; that is also where most
multiply-adds are. A channel is kept by its importance: its mean activation
on training faces (after BatchNorm and ReLU) times the weight the next conv
gives it (its depthwise kernel's |sum| and its pointwise row's L2 norm). The
narrow network starts as near the wide one's function as a cut allows; a
fine-tune (`training.train` with `init_from` the wide model) recovers the rest.
"""
from __future__ import annotations

import numpy as np

from training.data.ferplus import DataError


def inner_chains(model) -> list[list[str]]:
    """Per block, the separable convs in order: [blockN_a, blockN_a2, ..., blockN_b] (without _sep)."""
    names = {layer.name for layer in model.layers}
    chains = []
    block = 1
    while f"block{block}_a_sep" in names:
        chain = [f"block{block}_a"]
        extra = 2
        while f"block{block}_a{extra}_sep" in names:
            chain.append(f"block{block}_a{extra}")
            extra += 1
        chains.append(chain + [f"block{block}_b"])
        block += 1
    return chains


def channel_importance(mean_activation: np.ndarray, depthwise: np.ndarray, pointwise: np.ndarray) -> np.ndarray:
    """(C,) how much each input channel of a separable conv can move its output."""
    return mean_activation * np.abs(depthwise[:, :, :, 0]).sum((0, 1)) * np.linalg.norm(pointwise[0, 0], axis=1)


def prune_into(source, target, calibration: np.ndarray) -> dict[str, tuple[int, int]]:
    """Set `target`'s weights from `source`'s, keeping each inner layer's most important channels.
    Returns {layer: (channels kept, channels in the source)}."""
    import keras

    weights = {layer.name: [np.array(v) for v in layer.get_weights()] for layer in source.layers if layer.weights}
    chains = inner_chains(source)
    inner = [name for chain in chains for name in chain[:-1]]
    probe = keras.Model(source.input, [source.get_layer(f"{name}_relu").output for name in inner])
    activations = probe.predict(calibration, batch_size=256, verbose=0)
    mean_activation = {name: np.asarray(a).mean(axis=(0, 1, 2)) for name, a in zip(inner, activations)}
    kept = {}
    for chain in chains:
        for layer, consumer in zip(chain[:-1], chain[1:]):
            width = target.get_layer(f"{layer}_sep").get_weights()[1].shape[-1]
            depthwise, pointwise = weights[f"{consumer}_sep"]
            importance = channel_importance(mean_activation[layer], depthwise, pointwise)
            keep = np.sort(np.argsort(importance)[::-1][:width])
            weights[f"{layer}_sep"][1] = weights[f"{layer}_sep"][1][..., keep]
            weights[f"{layer}_bn"] = [v[keep] for v in weights[f"{layer}_bn"]]
            weights[f"{consumer}_sep"] = [depthwise[:, :, keep, :], pointwise[:, :, keep, :]]
            kept[layer] = (int(width), int(len(importance)))
    for layer in target.layers:
        if not layer.weights:
            continue
        if layer.name not in weights:
            raise DataError(f"init_from: the source network has no layer {layer.name!r}")
        have = [tuple(v.shape) for v in layer.weights]
        given = [v.shape for v in weights[layer.name]]
        if have != given:
            raise DataError(f"init_from: {layer.name} is {given} in the source and {have} here; "
                            "only the convs inside a block can be narrowed")
        layer.set_weights(weights[layer.name])
    return kept
