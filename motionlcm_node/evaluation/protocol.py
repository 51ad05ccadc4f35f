"""The evaluation protocol behind ``motionlcm eval``: one table row per motion source.

Rows: *real data* (test motions against a second draw of test crops), *VAE reconstruction*
(encode to the posterior mean, decode), *teacher* (DDIM + classifier-free guidance) and the
*MotionLCM student* at 1, 2 and 4 steps, one generated motion per test caption at the real
motion's length. Each repeat draws new crops, captions, R-precision
pools and noise; every metric is reported as mean and 95% interval over repeats. Embeddings come
from our own evaluator, so FID and distances are on its scale (unit-norm latents), comparable only
within one table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion
from motionlcm_node.data.recovery_torch import recover_joints
from motionlcm_node.evaluation import metrics, motion_metrics
from motionlcm_node.loading.models import EvaluatorBundle
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.postprocess.normalizer import FeatureNormalizer
from motionlcm_node.text.encoder import SentenceEncoder


@dataclass
class SourceRow:
    """Per-repeat values of every metric for one motion source."""

    name: str
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, metric: str, value: float) -> None:
        """Record one repeat's value."""
        self.values.setdefault(metric, []).append(float(value))

    def summary(self) -> dict[str, tuple[float, float]]:
        """Each metric as (mean, 95% interval half-width)."""
        return {k: metrics.mean_and_interval(v) if len(v) > 1 else (v[0], 0.0) for k, v in self.values.items()}


@dataclass
class TestDraw:
    """One repeat's crops of the test split (normalised with the evaluator's statistics)."""

    motion: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor
    texts: list[str]


def draw_test_set(dataset: HumanML3DDataset, seed: int, batch_size: int = 128) -> TestDraw:
    """Every test item once, with crops and captions drawn under ``seed``, padded into one batch."""
    torch.manual_seed(seed)
    batches = list(DataLoader(dataset, batch_size, shuffle=False, collate_fn=collate_motion))
    frames = max(int(b["motion"].shape[1]) for b in batches)
    motion = torch.cat([nn.functional.pad(b["motion"], (0, 0, 0, frames - b["motion"].shape[1])) for b in batches])
    lengths = torch.cat([b["lengths"] for b in batches])
    mask = torch.arange(frames)[None, :] < lengths[:, None]
    return TestDraw(motion, mask, lengths, [t for b in batches for t in b["texts"]])


def _embed_motion(evaluator: EvaluatorBundle, raw: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return evaluator.model.encode_motion(evaluator.normalizer.normalize(raw) * mask[..., None], mask)


def _score(
    row: SourceRow,
    evaluator: EvaluatorBundle,
    raw: torch.Tensor,
    draw: TestDraw,
    text_emb: torch.Tensor,
    real_emb: torch.Tensor,
    generator: np.random.Generator,
    pool_size: int,
) -> torch.Tensor:
    motion_emb = _embed_motion(evaluator, raw, draw.mask)
    joints = recover_joints(raw)
    row.add("FID", metrics.frechet_distance(motion_emb, real_emb))
    precision = metrics.r_precision(text_emb, motion_emb, pool_size, top_k=min(3, pool_size), generator=generator)
    for k, value in enumerate(precision, start=1):
        row.add(f"R@{k}", value)
    row.add("MM-Dist", metrics.matching_score(text_emb, motion_emb))
    row.add("Diversity", metrics.diversity(motion_emb, min(300, len(motion_emb)), generator=generator))
    row.add("Foot skating", motion_metrics.foot_skating_ratio(joints, draw.lengths))
    row.add("Jitter (m/s^3)", motion_metrics.jitter(joints, draw.lengths))
    return joints


def evaluate(
    data_dir: Path,
    evaluator: EvaluatorBundle,
    text_encoder: SentenceEncoder,
    vae: tuple[MotionVAE, FeatureNormalizer] | None,
    generators: dict[str, Callable[[list[str], list[int], np.random.Generator], np.ndarray]],
    *,
    repeats: int = 3,
    seed: int = 0,
    min_length: int = 24,
    pool_size: int = 32,
    split: str = "test",
    post_processes: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] | None = None,
) -> list[SourceRow]:
    """Run the protocol on one split (the test split for reported numbers).

    Args:
        data_dir: prepared dataset (its ``<split>.txt``).
        evaluator: trained evaluator.
        text_encoder: sentence encoder of the evaluator's text model.
        vae: (VAE, its normaliser) for the reconstruction row, or None.
        generators: row name -> function(prompts, lengths, generator) returning raw features
            [B, T, 263] (the teacher, the student at each step count).
        repeats: independent repeats (crops, captions, pools, noise).
        seed: base seed.
        min_length: shortest clip used, frames.
        pool_size: R-precision pool size (32 in the standard protocol).
        split: ``"test"`` for reported numbers; ``"val"`` to choose sampling settings without
            looking at the test split.
        post_processes: row-name suffix -> function(raw features [B, T, 263], lengths [B]) ->
            features; each generator gets one more row per entry, scored on its own samples
            after that function (same noise, so the two rows differ only by the post-process).

    Returns:
        Rows in order: real data, VAE reconstruction, then each generator.
    """
    dataset = HumanML3DDataset(data_dir, split, min_length=min_length, max_length=196)
    dataset.mean, dataset.std = evaluator.normalizer.mean.numpy(), evaluator.normalizer.std.numpy()
    rows = {"Real data": SourceRow("Real data")}
    if vae is not None:
        rows["VAE reconstruction"] = SourceRow("VAE reconstruction")
    post_processes = post_processes or {}
    for name in generators:
        rows[name] = SourceRow(name)
        rows.update({f"{name} + {suffix}": SourceRow(f"{name} + {suffix}") for suffix in post_processes})
    for repeat in range(repeats):
        draw = draw_test_set(dataset, seed + 1000 * repeat)
        second = draw_test_set(dataset, seed + 1000 * repeat + 1)
        generator = np.random.default_rng(seed + repeat)
        with torch.no_grad():
            text_emb = evaluator.model.encode_text(torch.from_numpy(text_encoder.encode(draw.texts)))
        raw = evaluator.normalizer.denormalize(draw.motion) * draw.mask[..., None]
        real_emb = _embed_motion(evaluator, raw, draw.mask)
        second_raw = evaluator.normalizer.denormalize(second.motion) * second.mask[..., None]
        # Real pairs for R-precision; FID against a second draw of crops (its floor for this data).
        second_emb = _embed_motion(evaluator, second_raw, second.mask)
        target_joints = _score(rows["Real data"], evaluator, raw, draw, text_emb, second_emb, generator, pool_size)
        if vae is not None:
            model, normalizer = vae
            with torch.no_grad():
                reconstruction, _, _ = model(normalizer.normalize(raw), draw.lengths, sample=False)
            reconstruction = normalizer.denormalize(reconstruction) * draw.mask[..., None]
            joints = _score(
                rows["VAE reconstruction"], evaluator, reconstruction, draw, text_emb, real_emb, generator, pool_size
            )
            # MPJPE as MLD reports it: joints relative to the pelvis in every frame; the global error
            # (which also counts integrated root drift) is kept beside it.
            relative, target_relative = joints - joints[..., :1, :], target_joints - target_joints[..., :1, :]
            rows["VAE reconstruction"].add("MPJPE (m)", motion_metrics.mpjpe(relative, target_relative, draw.mask))
            rows["VAE reconstruction"].add("Global MPJPE (m)", motion_metrics.mpjpe(joints, target_joints, draw.mask))
        for name, generate in generators.items():
            noise = np.random.default_rng(seed + repeat)
            features = torch.as_tensor(generate(draw.texts, draw.lengths.tolist(), noise), dtype=torch.float32)
            features = nn.functional.pad(features, (0, 0, 0, draw.motion.shape[1] - features.shape[1]))
            features = features * draw.mask[..., None]
            _score(rows[name], evaluator, features, draw, text_emb, real_emb, generator, pool_size)
            for suffix, process in post_processes.items():
                processed = process(features, draw.lengths) * draw.mask[..., None]
                _score(rows[f"{name} + {suffix}"], evaluator, processed, draw, text_emb, real_emb, generator, pool_size)
    return list(rows.values())


def time_per_sentence(pipeline: Callable[..., object], prompts: list[str], **kwargs: object) -> float:
    """Mean seconds to generate one 196-frame motion at batch 1.

    Text encoding is included as long as the prompts are new to the pipeline's encoder cache; the
    warm-up uses a sentence of its own so that no timed prompt is cached by it.
    """
    pipeline(["warm-up sentence that is not timed"], [196], **kwargs)
    start = time.perf_counter()
    for prompt in prompts:
        pipeline([prompt], [196], **kwargs)
    return (time.perf_counter() - start) / len(prompts)


#: Decimals per metric in ``markdown_table`` (3 by default). FIDs here are ~0.01, where three
#: decimals cannot show a 1.3x ratio between two rows.
TABLE_DECIMALS = {"FID": 4}


def _mean_and_interval(value: tuple[float, float], decimals: int) -> str:
    """``mean ± interval`` at ``decimals`` decimals."""
    return f"{value[0]:.{decimals}f} ± {value[1]:.{decimals}f}"


def markdown_table(rows: list[SourceRow], extra: dict[str, dict[str, str]] | None = None) -> str:
    """Rows as a markdown table: ``mean ± interval`` per metric; ``extra`` adds columns per row."""
    columns = ["FID", "R@1", "R@2", "R@3", "MM-Dist", "Diversity", "Foot skating", "Jitter (m/s^3)", "MPJPE (m)",
               "Global MPJPE (m)"]  # fmt: skip
    extra_columns = sorted({c for values in (extra or {}).values() for c in values})
    header = "| source | " + " | ".join(columns + extra_columns) + " |"
    lines = [header, "|---" * (1 + len(columns) + len(extra_columns)) + "|"]
    for row in rows:
        summary = row.summary()
        cells = [_mean_and_interval(summary[c], TABLE_DECIMALS.get(c, 3)) if c in summary else "" for c in columns]
        cells += [(extra or {}).get(row.name, {}).get(c, "") for c in extra_columns]
        lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
