"""Import boundaries: what each layer may import (read from the source, lazy imports included) and what
the default generation path loads at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
PACKAGE = REPOSITORY / "motionlcm_node"
#: Inference code: everything a generating pipeline, the CLI's generate command or the node runs.
INFERENCE = ("data", "loading", "networks", "postprocess", "runtime", "sampling", "text", "resources.py", "errors.py")


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at top level or inside functions (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def sources(*parts: str) -> list[Path]:
    """Python files under the repository paths ``parts`` (files or folders)."""
    found: list[Path] = []
    for part in parts:
        path = REPOSITORY / part
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    assert found, parts
    return found


def offenders(files: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """File -> the imports of it that are ``forbidden`` or inside a forbidden package."""
    out = {}
    for path in files:
        bad = sorted(name for name in imported_modules(path) if name.split(".")[0] in forbidden or name in forbidden
                     or any(name.startswith(f"{prefix}.") for prefix in forbidden))  # fmt: skip
        if bad:
            out[str(path.relative_to(REPOSITORY))] = bad
    return out


def test_retargeting_imports_neither_torch_nor_ros() -> None:
    assert offenders(sources("retargeting"), ("torch", "rclpy", "diffusers", "motionlcm_node")) == {}


def test_networks_sampling_and_retargeting_import_no_ros() -> None:
    files = sources("motionlcm_node/networks", "motionlcm_node/sampling", "retargeting")
    assert offenders(files, ("rclpy", "launch", "launch_ros", "rosbags")) == {}


def test_only_the_node_module_imports_rclpy_node() -> None:
    users = {name for name, _ in offenders(sources("motionlcm_node"), ("rclpy.node",)).items()}
    assert users <= {"motionlcm_node/node.py"}


def test_inference_code_imports_nothing_from_training_evaluation_or_export() -> None:
    files = sources(*(f"motionlcm_node/{part}" for part in INFERENCE))
    forbidden = ("motionlcm_node.training", "motionlcm_node.evaluation", "motionlcm_node.export")
    assert offenders(files, forbidden) == {}


def test_the_boundary_check_sees_lazy_imports(tmp_path: Path) -> None:
    """The check can fail: a function-level import of training code is caught."""
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from motionlcm_node.training.loop import train\n    return train\n")
    assert "motionlcm_node.training.loop" in imported_modules(module)


RUN_STUDENT = """
import sys
from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
pipeline = MotionLCMPipeline.from_models()
output = pipeline(["a person waves with the right hand"], seconds=[2.0], generator=0, stabilize_feet=True)
assert output.joints.shape == (1, 40, 22, 3)
print(sorted({name.split(".")[0] for name in sys.modules} & {"torch", "diffusers", "transformers", "scipy"}))
"""

RUN_RETARGETING = """
import sys
import numpy as np
from retargeting import retarget_motion
joints = np.load(sys.argv[1])
trajectory = retarget_motion(joints, fps=20.0, robot="g1", rate=50.0)
assert np.isfinite(trajectory.joint_positions).all()
print(sorted({name.split(".")[0] for name in sys.modules} & {"torch", "diffusers", "rclpy"}))
"""


@pytest.mark.parametrize(("script", "allowed"), [(RUN_STUDENT, "[]"), (RUN_RETARGETING, "[]")], ids=["student", "g1"])
def test_the_default_paths_run_without_torch(script: str, allowed: str) -> None:
    clip = REPOSITORY / "tests" / "fixtures" / "joints" / "dataset-2_wave-left-hand_normal_024.npy"
    result = subprocess.run([sys.executable, "-c", script, str(clip)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == allowed
