"""Train the student's static text encoder (``static_text_encoder.py``) from MiniLM and the student.

``motionlcm train student-text --config config/training/10_student_text.json`` (about 15 minutes on the
2-core CPU, most of it MiniLM encoding the corpus once; the vectors are cached in the run folder):

1. Corpus: the training split's captions plus every caption the *seen* phrasings form
   (``seen_caption_corpus``, ~94,000 sentences); no validation or test caption, no held-out wording.
2. Targets: the MiniLM vectors of the text model the student was trained with.
3. Start: each WordPiece token's MiniLM vector on its own (``[CLS] token [SEP]``, mean-pooled), reduced
   to ``rank`` dimensions by PCA; a linear projection back to the vector size.
4. ``epochs`` of cosine loss between the mean-of-tokens vector and MiniLM's.
5. ``task_steps`` with, in addition, the frozen student's 1-step clean latent from pure noise compared
   with the one MiniLM's vector gives (squared error over the latents' spread across the batch), so
   the approximation is spent where the student listens.
The result goes to ``out_dir/model`` (copy it to ``models/student_text``) with a ``train_log.csv``.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from motionlcm_node.errors import MotionLCMError

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class StudentTextConfig:
    """Settings of ``motionlcm train student-text`` (a JSON object with these keys; unknown keys are errors).

    Attributes:
        data_dir: prepared dataset whose ``train.txt`` captions join the corpus.
        models_dir: folder with the student (its text model and its network for the task term).
        out_dir: run folder (vector cache, log, ``model/``).
        rank: width of the token table (15 MiB at rank 256 in float16 for MiniLM's 30,522 tokens).
        epochs: cosine-loss passes over the corpus.
        batch_size: sentences per step.
        learning_rate: Adam peak learning rate of the cosine passes (one-cycle schedule).
        task_steps: steps with the student's output term added (0 = none).
        task_batch_size: sentences per task step (half training captions, half corpus).
        task_learning_rate: Adam learning rate of the task steps (cosine decay).
        task_weight: weight of the student's output term against the cosine loss.
        corpus_limit: use only every k-th seen-phrasing caption so that at most this many remain
            (0 = all; for quick runs and tests).
        seed: random seed.
        num_threads: torch CPU threads (0 = torch default).
    """

    data_dir: str = "data/bandai"
    models_dir: str = "models"
    out_dir: str = "runs/student_text"
    rank: int = 256
    epochs: int = 6
    batch_size: int = 256
    learning_rate: float = 3e-3
    task_steps: int = 300
    task_batch_size: int = 128
    task_learning_rate: float = 1e-3
    task_weight: float = 1.0
    corpus_limit: int = 0
    seed: int = 0
    num_threads: int = 0

    @classmethod
    def from_file(cls, path: Path) -> StudentTextConfig:
        """Read a config JSON; an unreadable file, unknown keys and bad values are ``MotionLCMError``."""
        from motionlcm_node.training.config import load_flat_config

        config = load_flat_config(cls, path)
        if min(config.rank, config.epochs, config.batch_size, config.task_batch_size) < 1:
            raise MotionLCMError(f"{path}: rank, epochs and batch sizes must be at least 1")
        if config.task_steps < 0 or config.corpus_limit < 0:
            raise MotionLCMError(f"{path}: task_steps and corpus_limit must be at least 0")
        return config


class _TokenMean(torch.nn.Module):
    """Mean of per-token vectors, projected and L2-normalised (the trainable form of the encoder)."""

    def __init__(self, table: torch.Tensor, dim: int) -> None:
        super().__init__()
        self.bag = torch.nn.EmbeddingBag.from_pretrained(table, freeze=False, mode="mean")
        self.projection = torch.nn.Linear(table.shape[1], dim)

    def forward(self, token_ids: list[list[int]]) -> torch.Tensor:
        flat = torch.tensor([i for ids in token_ids for i in ids], dtype=torch.long)
        offsets = torch.tensor([0, *np.cumsum([len(ids) for ids in token_ids])[:-1].tolist()], dtype=torch.long)
        return torch.nn.functional.normalize(self.projection(self.bag(flat, offsets)), dim=-1)


def training_captions(data_dir: Path) -> list[str]:
    """The captions of the clips listed in ``data_dir/train.txt`` (sorted, unique)."""
    from motionlcm_node.data.dataset import parse_text_file

    names = (data_dir / "train.txt").read_text().split()
    if not names:
        raise MotionLCMError(f"{data_dir}/train.txt lists no clips")
    return sorted({caption for name in names for caption, _, _ in parse_text_file(data_dir / "texts" / f"{name}.txt")})


def single_token_vectors(model_folder: Path, cls_id: int, sep_id: int, batch: int = 1024) -> torch.Tensor:
    """[vocab, dim] MiniLM's mean-pooled output for each token alone (``[CLS] token [SEP]``, ids from its tokenizer)."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_folder), local_files_only=True).eval()
    config = model.config
    out = []
    with torch.no_grad():
        for start in range(0, config.vocab_size, batch):
            ids = torch.arange(start, min(start + batch, config.vocab_size))
            inputs = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            out.append(model(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state.mean(1))
    return torch.cat(out)


def train_student_text(config: StudentTextConfig) -> Path:
    """Run the whole recipe (module docstring); returns the exported model folder."""
    from tokenizers import Tokenizer

    from motionlcm_node.data.captions import seen_caption_corpus
    from motionlcm_node.loading.models import load_student, text_model_of
    from motionlcm_node.sampling.consistency import clean_latent, lcm_scheduler
    from motionlcm_node.text.encoder import text_model_folder
    from motionlcm_node.text.static_encoder import save_static_encoder
    from motionlcm_node.training.text_vectors import cached_sentence_vectors

    torch.manual_seed(config.seed)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    out, models = Path(config.out_dir), Path(config.models_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    text_model = text_model_of(models / "student")
    folder = text_model_folder(text_model)
    captions = training_captions(Path(config.data_dir))
    corpus = seen_caption_corpus()
    if config.corpus_limit:
        corpus = corpus[:: max(1, -(-len(corpus) // config.corpus_limit))]
    sentences = sorted(set(captions) | set(corpus))
    LOGGER.info("MiniLM vectors of %d sentences (%s)", len(sentences), text_model)
    vectors = cached_sentence_vectors(set(sentences), folder, out / "corpus_vectors.safetensors", batch_size=512)
    targets = torch.from_numpy(np.stack([vectors[sentence] for sentence in sentences]))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()  # as StaticTextEncoder: the file's fixed padding to 128 tokens is off
    token_ids = [e.ids for e in tokenizer.encode_batch(sentences, add_special_tokens=False)]
    single = single_token_vectors(folder, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))
    centred = single - single.mean(0)
    _, _, basis = torch.linalg.svd(centred, full_matrices=False)
    model = _TokenMean((centred @ basis[: config.rank].T).contiguous(), targets.shape[1])
    log_rows: list[dict[str, object]] = []
    started = time.perf_counter()

    def log(phase: str, step: int, cosine: float, task: float | None) -> None:
        row = {"phase": phase, "step": step, "seconds": round(time.perf_counter() - started, 1),
               "cosine": round(cosine, 5), "task_gap": None if task is None else round(task, 5)}  # fmt: skip
        log_rows.append(row)
        LOGGER.info("%s", row)

    per_epoch = (len(sentences) + config.batch_size - 1) // config.batch_size
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.learning_rate, total_steps=config.epochs * per_epoch, pct_start=0.05
    )
    for epoch in range(config.epochs):
        order, total = torch.randperm(len(sentences)), 0.0
        for start in range(0, len(sentences), config.batch_size):
            rows = order[start : start + config.batch_size]
            loss = (1 - (model([token_ids[r] for r in rows]) * targets[rows]).sum(1)).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(rows)
        log("cosine", epoch + 1, 1 - total / len(sentences), None)
    if config.task_steps:
        bundle = load_student(models / "student")
        student = bundle.denoiser.eval().requires_grad_(False)
        plan = bundle.step_table[min(bundle.step_table)]
        alphas = lcm_scheduler(bundle.original_steps).alphas_cumprod
        row_of = {sentence: row for row, sentence in enumerate(sentences)}
        caption_rows = torch.tensor([row_of[caption] for caption in captions])
        optimiser = torch.optim.Adam(model.parameters(), lr=config.task_learning_rate)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.task_steps)
        for step in range(config.task_steps):
            half = config.task_batch_size // 2
            rows = torch.cat([caption_rows[torch.randint(len(caption_rows), (half,))],
                              torch.randint(len(sentences), (config.task_batch_size - half,))])  # fmt: skip
            vectors, wanted = model([token_ids[r] for r in rows]), targets[rows]
            noise = torch.randn(len(rows), student.config.latent_tokens, student.config.latent_dim)
            timesteps = torch.full((len(rows),), plan.timesteps[0])
            guidance = torch.full((len(rows),), plan.guidance)
            with torch.no_grad():
                reference = clean_latent(alphas, noise, student(noise, timesteps, wanted, guidance), timesteps)
            latent = clean_latent(alphas, noise, student(noise, timesteps, vectors, guidance), timesteps)
            gap = ((latent - reference) ** 2).mean() / ((reference - reference.mean(0)) ** 2).mean()
            cosine = (1 - (vectors * wanted).sum(1)).mean()
            loss = cosine + config.task_weight * gap
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            if (step + 1) % 50 == 0 or step + 1 == config.task_steps:
                log("task", step + 1, 1 - float(cosine.detach()), float(gap.detach()))
    with (out / "train_log.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(log_rows[0]))
        writer.writeheader()
        writer.writerows(log_rows)
    exported = out / "model"
    save_static_encoder(
        exported, model.bag.weight, model.projection.weight, model.projection.bias, text_model,
        extra={"corpus_sentences": len(sentences), "student_task_steps": config.task_steps},
    )  # fmt: skip
    (exported / "train_config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    (exported / "train_log.csv").write_text((out / "train_log.csv").read_text())
    return exported
