"""The shipped ``models/`` and the recipe that made them: every config loads, outputs match the golden fixture.

The golden joints (``tests/golden.py``) pin what the shipped student (1, 2, 4 steps, with and without
the planted-foot fix) and teacher generate for fixed prompts and seeds, on the default ONNX Runtime
backends and on PyTorch, within ``golden.TOLERANCE_M`` (1 mm; the reason is stated there).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests import golden

REPOSITORY = Path(__file__).resolve().parents[1]
MODELS = REPOSITORY / "models"
RECIPE = sorted((REPOSITORY / "config" / "training").glob("[0-9][0-9]_*.json"))
REFERENCE = sorted((REPOSITORY / "config" / "training" / "reference").glob("*.json"))
MAX_FILE_BYTES = 16 * 2**20


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    with np.load(golden.FIXTURE) as stored:
        return {name: stored[name] for name in stored.files}


@pytest.fixture(scope="module")
def generated() -> dict[str, dict[str, np.ndarray]]:
    """Every golden case on the default backends and on PyTorch (generated once for the module)."""
    return {backend: golden.generate(MODELS, backend) for backend in ("auto", "torch")}


@pytest.mark.parametrize("backend", ["auto", "torch"])
@pytest.mark.parametrize("case", list(golden.CASES))
def test_shipped_models_generate_the_golden_joints(
    generated: dict[str, dict[str, np.ndarray]], expected: dict[str, np.ndarray], backend: str, case: str
) -> None:
    found = generated[backend][case]
    assert found.shape == expected[case].shape and np.isfinite(found).all()
    assert golden.differences(generated[backend], expected)[case] <= golden.TOLERANCE_M


def test_the_default_backends_are_onnx_runtime_and_the_static_encoder() -> None:
    built = golden.pipelines()
    student, teacher = built["student"], built["teacher"]
    assert (student.student.backend, student.decoder.backend, teacher.denoiser.backend) == ("onnx",) * 3
    assert type(student.text_encoder).__name__ == "StaticTextEncoder"


def test_the_golden_comparison_fails_when_the_model_changes(expected: dict[str, np.ndarray], tmp_path: Path) -> None:
    """A changed step table (guidance 7.5 -> 6.5) moves the joints far beyond the tolerance."""
    models = tmp_path / "models"
    shutil.copytree(MODELS, models, ignore=shutil.ignore_patterns("*.csv"))
    config = json.loads((models / "student" / "config.json").read_text())
    for plan in config["step_table"].values():
        plan["guidance"] = 6.5
    (models / "student" / "config.json").write_text(json.dumps(config))
    student = golden.pipelines(models)["student"]
    joints = student(list(golden.PROMPTS), list(golden.LENGTHS), generator=golden.SEED, num_steps=1).joints
    worst = max(
        float(np.abs(joints[row, :length] - expected["student_1_step"][row, :length]).max())
        for row, length in enumerate(golden.LENGTHS)
    )
    assert worst > 10 * golden.TOLERANCE_M


def test_every_shipped_config_loads_and_every_export_is_current() -> None:
    from motionlcm_node.loading.models import read_denoiser_spec, read_model_config, read_student_spec, read_vae_config
    from motionlcm_node.loading.text import shipped_student_text_encoder
    from motionlcm_node.networks.evaluator import EvaluatorConfig
    from motionlcm_node.runtime.decoder import decoder_export_is_current
    from motionlcm_node.runtime.denoiser import denoiser_export_is_current

    student, teacher = read_student_spec(MODELS / "student"), read_denoiser_spec(MODELS / "teacher")
    vae = read_vae_config(MODELS / "vae")
    assert sorted(student.step_table) == [1, 2, 4] and teacher.step_table is None
    assert student.text_model == teacher.text_model and student.latent_scale == teacher.latent_scale
    assert (student.denoiser.latent_tokens, student.denoiser.latent_dim) == (vae.latent_tokens, vae.latent_dim)
    EvaluatorConfig.from_dict(read_model_config(MODELS / "evaluator")["evaluator"])
    encoder = shipped_student_text_encoder(MODELS)
    assert encoder is not None and encoder.vector_space == student.text_model
    assert decoder_export_is_current(MODELS / "vae")
    assert denoiser_export_is_current(MODELS / "student") and denoiser_export_is_current(MODELS / "teacher")
    for part in ("student", "teacher"):  # no machine paths recorded in what we ship
        config = read_model_config(MODELS / part)
        assert not any(str(value).startswith(("runs/", "/")) for value in config.values() if isinstance(value, str))


def test_shipped_files_are_safetensors_onnx_json_or_text_and_under_16_mib() -> None:
    files = [path for path in MODELS.rglob("*") if path.is_file()]
    assert files and all(path.stat().st_size < MAX_FILE_BYTES for path in files)
    assert {path.suffix for path in files} <= {".safetensors", ".onnx", ".json", ".csv", ".md"}


def test_the_recipe_is_numbered_in_order_and_each_step_reads_earlier_steps_only() -> None:
    assert [path.name[:2] for path in RECIPE] == [f"{index:02d}" for index in range(len(RECIPE))]
    produced: set[str] = set()
    for path in RECIPE:
        config = json.loads(path.read_text())
        out_dir = config.get("train", config).get("out_dir")
        assert out_dir == f"runs/{path.stem}", path.name
        references = [
            value for key, value in config.items() if key.endswith(("_dir", "init_from")) and key != "out_dir" and value
        ]
        for reference in references:
            if str(reference).startswith("runs/"):
                assert str(reference).split("/")[1] in produced, (path.name, reference)
        produced.add(path.stem)


@pytest.mark.parametrize("path", RECIPE + REFERENCE, ids=lambda path: path.relative_to(REPOSITORY).as_posix())
def test_training_configs_parse(path: Path) -> None:
    from motionlcm_node.networks.config import DenoiserConfig, MotionVAEConfig
    from motionlcm_node.networks.evaluator import EvaluatorConfig
    from motionlcm_node.training.classifier_stage import ClassifierSizes, ClassifierStageConfig
    from motionlcm_node.training.config import (
        StudentStageConfig,
        TeacherStageConfig,
        VAEStageConfig,
        load_stage_config,
    )
    from motionlcm_node.training.evaluator_stage import EvaluatorStageConfig
    from motionlcm_node.training.student_text import StudentTextConfig

    stage = path.stem.split("_")[1] if path.stem[:2].isdigit() else path.stem
    if stage == "student" and "text" in path.stem:
        assert StudentTextConfig.from_file(path).out_dir == f"runs/{path.stem}"
        return
    classes = {"vae": (VAEStageConfig, MotionVAEConfig), "teacher": (TeacherStageConfig, DenoiserConfig),
               "student": (StudentStageConfig, dict), "evaluator": (EvaluatorStageConfig, EvaluatorConfig),
               "action": (ClassifierStageConfig, ClassifierSizes)}  # fmt: skip
    config = load_stage_config(*classes[stage][:1], path, classes[stage][1])
    assert config.train.data_dir == "data/bandai" and config.train.out_dir.startswith("runs/")


def test_there_is_a_recipe_to_test() -> None:
    assert len(RECIPE) == 17 and len(REFERENCE) == 2
