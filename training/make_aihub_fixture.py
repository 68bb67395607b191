"""`python -m training.make_aihub_fixture {a,b} OUT --clips 40 --frames 300`.

Writes an AIHub-shaped data set built from the real face photos in the shared
data folder (see training/data/aihub_synth.py); for trying `training.prepare`
without the real (registration-only) AIHub dumps. Write it outside the repo.
"""
from training.data.aihub_synth import main

if __name__ == "__main__":
    raise SystemExit(main())
