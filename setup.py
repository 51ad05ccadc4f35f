"""ament_python package ``motionlcm_node`` (also installable with plain ``pip install -e .``)."""

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE_NAME = "motionlcm_node"
ROOT = Path(__file__).parent


def _data_files() -> list[tuple[str, list[str]]]:
    """Files ament needs in ``share/`` (package index marker, manifest, launch and config)."""
    files = [
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (f"share/{PACKAGE_NAME}", ["package.xml"]),
    ]
    for folder in ("launch", "config"):
        found = sorted(str(p.relative_to(ROOT)) for p in (ROOT / folder).glob("*") if p.is_file())
        if found:
            files.append((f"share/{PACKAGE_NAME}/{folder}", found))
    return files


setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    description="Real-time text-to-motion (MotionLCM) for humanoid robots over ROS 2.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["motionlcm_node", "motionlcm_node.*", "retargeting", "retargeting.*"]),
    package_data={"motionlcm_node": ["data/splits/*.txt", "data/skeletons/*.yaml"], "retargeting": ["robots/*.yaml"]},
    data_files=_data_files(),
    zip_safe=True,
    tests_require=["pytest"],
    entry_points={"console_scripts": ["motionlcm = motionlcm_node.cli.main:main"]},
)
