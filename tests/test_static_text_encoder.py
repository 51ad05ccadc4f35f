"""The student's static text encoder: its arithmetic, its loader's choices, and its training command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import text_model_of
from motionlcm_node.loading.text import STUDENT_TEXT_DIR, load_student_text_encoder
from motionlcm_node.text.encoder import default_model_path
from motionlcm_node.text.sentence_transformer import TextEncoder
from motionlcm_node.text.static_encoder import StaticTextEncoder, save_static_encoder
from tests.tiny_models import write_tiny_models

VOCAB = 30522  # MiniLM's WordPiece vocabulary


def write_random_encoder(folder: Path, vector_space: str, rank: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    parts = {
        "token_table": torch.randn(VOCAB, rank, generator=generator).half().float(),
        "projection": torch.randn(384, rank, generator=generator),
        "bias": torch.randn(384, generator=generator),
    }
    save_static_encoder(folder, parts["token_table"], parts["projection"], parts["bias"], vector_space)
    return parts


def test_a_sentence_is_the_normalised_mean_of_its_token_vectors(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    parts = write_random_encoder(tmp_path / "enc", "some-space")
    encoder = StaticTextEncoder(tmp_path / "enc")
    sentences = ["a person waves with the right hand", "someone kicks", ""]
    vectors = encoder.encode(sentences)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), np.ones(3), rtol=1e-6)
    vectors = torch.from_numpy(vectors)
    tokenizer = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    tokenizer.no_padding()
    ids = tokenizer.encode(sentences[0], add_special_tokens=False).ids
    expected = parts["token_table"][ids].mean(0) @ parts["projection"].T + parts["bias"]
    torch.testing.assert_close(vectors[0], expected / expected.norm(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(vectors[2], parts["bias"] / parts["bias"].norm(), atol=1e-6, rtol=1e-6)
    assert not torch.allclose(vectors[0], vectors[1])
    alone = StaticTextEncoder(tmp_path / "enc").encode([sentences[1]])  # no padding: batch-independent
    torch.testing.assert_close(torch.from_numpy(alone[0]), vectors[1])
    assert encoder.vector_space == "some-space" and encoder.model_id.startswith("enc-")  # its own cache key
    config = json.loads((tmp_path / "enc" / "config.json").read_text())
    assert (config["rank"], config["vocab_size"], config["dim"]) == (8, VOCAB, 384)


def test_a_table_for_another_vocabulary_is_refused(tmp_path: Path) -> None:
    save_static_encoder(tmp_path / "enc", torch.zeros(100, 4), torch.zeros(384, 4), torch.ones(384), "x")
    with pytest.raises(MotionLCMError, match="30522 tokens, the table 100"):
        StaticTextEncoder(tmp_path / "enc")
    with pytest.raises(MotionLCMError, match="not a static text encoder"):
        StaticTextEncoder(tmp_path / "missing")


def test_the_student_runs_with_its_static_encoder_when_shipped(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline

    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset)
    assert not isinstance(load_student_text_encoder(models, "auto"), StaticTextEncoder)  # none shipped: MiniLM
    with pytest.raises(MotionLCMError, match="not a static text encoder"):
        load_student_text_encoder(models, "static")
    write_random_encoder(models / STUDENT_TEXT_DIR, text_model_of(models / "student"))
    encoder = load_student_text_encoder(models, "auto")
    assert isinstance(encoder, StaticTextEncoder)
    assert isinstance(load_student_text_encoder(models, "torch"), TextEncoder)
    pipeline = MotionLCMPipeline.from_models(models, threads=1)
    assert isinstance(pipeline.text_encoder, StaticTextEncoder)
    output = pipeline(["a person waves"], [40], generator=0)
    assert np.isfinite(output.joints[0]).all()
    with pytest.raises(MotionLCMError, match="text backend must be one of"):
        load_student_text_encoder(models, "fast")
    write_random_encoder(models / STUDENT_TEXT_DIR, "another-model-12345678")
    with pytest.raises(MotionLCMError, match="approximates another-model-12345678"):
        load_student_text_encoder(models, "auto")


def test_training_moves_the_vectors_towards_minilm_and_exports_a_loadable_encoder(
    prepared_fixture_dataset: Path, tmp_path: Path
) -> None:
    from motionlcm_node.training.student_text import StudentTextConfig, train_student_text

    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset)
    config = StudentTextConfig(
        data_dir=str(prepared_fixture_dataset), models_dir=str(models), out_dir=str(tmp_path / "run"), rank=16,
        epochs=3, batch_size=16, learning_rate=0.01, task_steps=50, task_batch_size=8, corpus_limit=60,
        num_threads=1,
    )  # fmt: skip
    exported = train_student_text(config)
    log = (tmp_path / "run" / "train_log.csv").read_text().splitlines()
    cosines = [float(line.split(",")[3]) for line in log[1:] if line.startswith("cosine")]
    assert len(cosines) == 3 and cosines[-1] > cosines[0]
    assert any(line.startswith("task") for line in log)
    encoder = StaticTextEncoder(exported)
    assert encoder.vector_space == text_model_of(models / "student")
    sentence = ["a person walks forward happily"]
    assert float((encoder.encode(sentence) * TextEncoder().encode(sentence)).sum()) > 0.5
    with pytest.raises(MotionLCMError, match=r"unknown fields \[.layers.\]"):
        (tmp_path / "bad.json").write_text(json.dumps({"rank": 4, "layers": 2}))
        StudentTextConfig.from_file(tmp_path / "bad.json")
