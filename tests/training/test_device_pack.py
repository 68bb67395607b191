"""The lossless FER+ pack that carries the training data to a GPU machine."""
from __future__ import annotations

import numpy as np

from training.data.ferplus import load_raw_split
from training.device_pack import pack, unpack


def test_pack_then_unpack_gives_back_the_same_pixels_votes_and_names(tmp_path, ferplus_root):
    packed, restored = tmp_path / "packed", tmp_path / "data"
    pack(packed, ferplus_root.parent, limit=250)
    assert (packed / "train.webp").is_file() and (packed / "valid_label.csv").is_file()
    unpack(packed, restored)
    for split in ("train", "valid"):
        images, votes, names = load_raw_split(split, ferplus_root.parent)
        got_images, got_votes, got_names = load_raw_split(split, restored, use_cache=False)
        assert len(got_names) == 250
        np.testing.assert_array_equal(got_images, images[:250])
        np.testing.assert_array_equal(got_votes, votes[:250])
        assert got_names == names[:250]
