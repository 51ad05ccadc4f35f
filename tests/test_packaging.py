"""A non-editable install works: build the wheel, install it into a prefix, use it from another folder.

The wheel is installed without dependencies (the test venv already holds them) into a fresh prefix,
the layout of both ``pip install .`` in a venv and colcon's ``install/motionlcm_node``; the test then
runs with that prefix's ``site-packages`` first on ``PYTHONPATH``, from an unrelated working folder,
and checks that the installed copy (not the checkout) is what runs. ``--ignore-installed`` keeps pip from
uninstalling the checkout's editable install from the test venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def all_modules() -> list[str]:
    """Dotted names of every module of the two Python packages in the checkout."""
    names = []
    for package in ("motionlcm_node", "retargeting"):
        for path in sorted((REPOSITORY / package).rglob("*.py")):
            parts = path.relative_to(REPOSITORY).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(prefix, environment) of the wheel built from this checkout and installed into a fresh prefix."""
    root = tmp_path_factory.mktemp("packaging")
    wheels, prefix = root / "wheels", root / "prefix"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPOSITORY)],
                   check=True, capture_output=True, cwd=root)  # fmt: skip
    wheel = next(wheels.glob("motionlcm_node-*.whl"))
    install = ["install", "--no-deps", "--no-index", "--ignore-installed", "--prefix", str(prefix), str(wheel)]
    subprocess.run([*pip, *install], check=True, capture_output=True, cwd=root)
    purelib = sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)})
    # The MiniLM export the command interpreter reads: `scripts/setup.sh` builds it in this checkout; an installed
    # package's user makes it once with `motionlcm export text-encoder` (~/.cache/motionlcm_node/onnx).
    environment = {**os.environ, "PYTHONPATH": purelib, "MOTIONLCM_ONNX_DIR": str(REPOSITORY / "build" / "onnx")}
    environment.pop("MOTIONLCM_MODELS", None)
    return prefix, environment


def run_installed(installed: tuple[Path, dict[str, str]], code: str, *args: str) -> str:
    prefix, environment = installed
    workdir = prefix.parent / "elsewhere"
    workdir.mkdir(exist_ok=True)
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=workdir,
                            env=environment, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_every_module_imports_from_the_installed_copy(installed: tuple[Path, dict[str, str]]) -> None:
    code = (
        "import importlib, json, sys\n"
        "files = {name: importlib.import_module(name).__file__ for name in sys.argv[1:]}\n"
        "print(json.dumps(files))\n"
    )
    files = json.loads(run_installed(installed, code, *all_modules()))
    prefix = str(installed[0].resolve())
    outside = {name: path for name, path in files.items() if not str(Path(path).resolve()).startswith(prefix)}
    assert len(files) == len(all_modules()) > 100 and outside == {}


def test_shipped_files_resolve_to_the_installed_share_folder(installed: tuple[Path, dict[str, str]]) -> None:
    code = (
        "from motionlcm_node import resources\n"
        "from motionlcm_node.data.skeleton_map import SkeletonMap\n"
        "from motionlcm_node.data.splits import read_split_file\n"
        "from retargeting.yaml_config import load_robot_config\n"
        "SkeletonMap.builtin('bandai')\n"
        "load_robot_config('g1')\n"
        "print(resources.source_root(), resources.share_dir(), resources.models_dir(), sep='\\n')\n"
    )
    root, share, models = run_installed(installed, code).split()
    prefix = installed[0]
    assert root == "None" and Path(share) == prefix / "share" / "motionlcm_node"
    assert Path(models) == Path(share) / "models" and (Path(models) / "vae" / "decoder.onnx").is_file()
    assert not any((Path(share) / "config").glob("*.json"))  # only node parameter files live there
    installed_configs = {path.name for path in (Path(share) / "config").iterdir()}
    assert installed_configs == {"motion_generator.yaml", "motion_generator.rviz", "g1_controllers.yaml"}
    launch_files = {path.name for path in (Path(share) / "launch").glob("*.py")}
    assert launch_files == {"motion_generator.launch.py", "rviz.launch.py", "gazebo.launch.py"}
    assert (prefix / "bin" / "motion_generator").is_file()
    assert (prefix / "share" / "ament_index" / "resource_index" / "packages" / "motionlcm_node").is_file()


def test_the_installed_command_generates_from_another_folder(installed: tuple[Path, dict[str, str]]) -> None:
    prefix, _ = installed
    out = prefix.parent / "out"
    command = str(prefix / "bin" / "motionlcm")
    code = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    run_installed(installed, code, command, "generate", "a person waves with the right hand", "--seconds", "2",
                  "--no-video", "--out", str(out))  # fmt: skip
    summary = json.loads((out / "generate.json").read_text())
    assert summary["models"] == "shipped" and summary["denoiser"] == "OnnxDenoiser"
    assert summary["torch_imported"] is False and summary["samples"][0]["frames"] == 40
