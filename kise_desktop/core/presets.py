"""Detector settings: the seed's, and KISE's defaults for live video and photos.

Faces near a laptop camera are large; faces in a group photo can be small.
So live video detects on a downscaled frame (fast, finds faces down to ~40 px
at 640x480 with Haar, ~80 px with HOG), and photos are searched finely at full
size (slower, finds ~20-40 px faces). `kise bench` measures all of them; the
numbers behind these choices are in the bench report.
"""
from __future__ import annotations

from kise_desktop.core.types import HaarSettings, HogSettings

# What the seed project used: Haar (1.3, 5) and HOG with one upsampling, at full size.
SEED_HAAR = HaarSettings(scale_factor=1.3, min_neighbors=5, min_size=30, detect_width=None)
SEED_HOG = HogSettings(upsample=1, detect_width=None)

# Live (camera, video, GUI): detect at 320 px wide, i.e. 1/4 of the pixels of 640x480.
# A finer scale step (1.2) and one neighbour fewer win back most of the recall lost to
# the smaller image; min_size 20 at 320 px is a 40 px face at 640x480.
LIVE_HAAR = HaarSettings(scale_factor=1.2, min_neighbors=4, min_size=20, detect_width=320)
# HOG's ~80 px window without upsampling at up to 640 px wide: ~13 ms at 640x480, and
# 1280x720 costs the same. Faces below ~80 px at 640x480 are missed (far from the camera).
LIVE_HOG = HogSettings(upsample=0, detect_width=640)

# Photos (kise annotate): a finer search for small faces. Width capped at 2048 so that
# a 4096 px photo does not take seconds; faces in such photos are rarely < 40 px.
PHOTO_HAAR = HaarSettings(scale_factor=1.1, min_neighbors=5, min_size=20, detect_width=2048)
PHOTO_HOG = HogSettings(upsample=1, detect_width=2048)

PRESETS: dict[str, HaarSettings | HogSettings] = {
    "seed-haar": SEED_HAAR,
    "seed-hog": SEED_HOG,
    "live-haar": LIVE_HAAR,
    "live-hog": LIVE_HOG,
    "photo-haar": PHOTO_HAAR,
    "photo-hog": PHOTO_HOG,
}


def describe(settings: HaarSettings | HogSettings) -> str:
    """A short human-readable form, e.g. 'haar 1.2/4 min20 @320'."""
    width = f" @{settings.detect_width}" if settings.detect_width else " @full"
    if isinstance(settings, HaarSettings):
        return f"haar {settings.scale_factor:g}/{settings.min_neighbors} min{settings.min_size}{width}"
    return f"hog up{settings.upsample}{width}"
