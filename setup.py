"""What pyproject.toml cannot say: the repo's top-level resources/ folder ships inside the package.

In the repo, models and fonts stay in resources/ (training writes there, the
README links there). In a wheel or sdist-built install they become
kise_desktop/resources/, found by kise_desktop.paths through importlib.resources.
Only kise_desktop is installed: training/ runs from the repo (python -m training.train).
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["kise_desktop", "kise_desktop.*"]) + ["kise_desktop.resources"],
    package_dir={"kise_desktop.resources": "resources"},
    # every file under resources/, whatever is added later (models, sidecars, licences, fonts)
    package_data={"kise_desktop.resources": ["**/*"]},
    include_package_data=False,   # package_data alone decides; MANIFEST.in only shapes the sdist
)
