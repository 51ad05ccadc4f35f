"""Where the teacher's foot skating comes from: real latents noised to t and finished by the teacher.

    python -m benchmarks.teacher_finishing --data data/bandai --models models --split val

Random crops of a split are encoded (posterior means), noised to a DDIM timestep t and finished by
the teacher (DDIM 50 grid, classifier-free guidance 7.5, the crops' own captions): exactly the pairs
that ``VAEStageConfig.pair_teacher_dir`` trains a decoder on (``training/denoised_pairs.py``), built
here on a held-out split. Each row decodes them with ``models/vae`` and scores the motion against
the crops: MPJPE (pelvis-relative and global, cm), foot skating ratio and jitter (m/s^3), and the
latent's distance from the clean encoding (relative L2). t = 0 is the plain reconstruction; the
largest t is close to sampling from noise. Run it with two VAE folders to see what a decoder
fine-tune on such pairs changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from benchmarks.report import emit
from motionlcm_node.data.dataset import HumanML3DDataset
from motionlcm_node.data.recovery import recover_joints
from motionlcm_node.evaluation import motion_metrics
from motionlcm_node.machine import machine_description
from motionlcm_node.model_store import load_vae
from motionlcm_node.training.denoised_pairs import build_denoised_pairs


@torch.no_grad()
def run(data: Path, models: Path, split: str, count: int, starts: tuple[int, ...], seed: int) -> dict[str, object]:
    """Scores per start timestep (see the module docstring); the same crops for every row."""
    vae, normalizer = load_vae(models / "vae")
    vae.eval()
    dataset = HumanML3DDataset(data, split, min_length=24, max_length=196)
    dataset.mean, dataset.std = normalizer.mean.numpy(), normalizer.std.numpy()
    rows: dict[str, dict[str, float]] = {}
    truth = clean = None
    for start in (0, *starts):
        pairs = build_denoised_pairs(vae, models / "teacher", dataset, data, count, [max(start, 1)], 7.5, seed)
        mask = torch.arange(pairs.motion.shape[1])[None, :] < pairs.lengths[:, None]
        if truth is None:
            raw = normalizer.denormalize(pairs.motion) * mask[..., None]
            truth = recover_joints(raw)
            clean = vae.encode(pairs.motion, pairs.lengths)[0]  # padding does not change the encoding
        latents = clean if start == 0 else pairs.latents
        decoded = normalizer.denormalize(vae.decode(latents, pairs.lengths, pairs.motion.shape[1])) * mask[..., None]
        joints = recover_joints(decoded)
        relative, true_relative = joints - joints[..., :1, :], truth - truth[..., :1, :]
        rows[str(start)] = {
            "latent_distance": float(((latents - clean).norm(dim=(1, 2)) / clean.norm(dim=(1, 2))).mean()),
            "mpjpe_cm": 100 * motion_metrics.mpjpe(relative, true_relative, mask),
            "global_mpjpe_cm": 100 * motion_metrics.mpjpe(joints, truth, mask),
            "foot_skating": motion_metrics.foot_skating_ratio(joints, pairs.lengths),
            "jitter": motion_metrics.jitter(joints, pairs.lengths),
        }
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine_description(),
        "models": str(models),
        "split": split,
        "crops": count,
        "real_foot_skating": motion_metrics.foot_skating_ratio(truth, pairs.lengths),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/bandai"), help="prepared dataset")
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder with vae/ and teacher/")
    parser.add_argument("--split", default="val", help="split to draw crops from (val)")
    parser.add_argument("--crops", type=int, default=256, help="random crops (the same for every row)")
    parser.add_argument("--starts", type=int, nargs="+", default=[100, 300, 500, 700, 900, 999],
                        help="DDPM timesteps to start from (rounded down to the DDIM grid)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="crop and noise seed")
    args = parser.parse_args()
    report = run(args.data, args.models, args.split, args.crops, tuple(args.starts), args.seed)
    header = ["t start", "latent distance", "MPJPE (cm)", "global MPJPE (cm)", "foot skating", "jitter (m/s^3)"]
    table = [
        [start, f"{row['latent_distance']:.3f}", f"{row['mpjpe_cm']:.2f}", f"{row['global_mpjpe_cm']:.2f}",
         f"{row['foot_skating']:.3f}", f"{row['jitter']:.1f}"]
        for start, row in report["rows"].items()
    ]  # fmt: skip
    emit(report, header, table)
    print(f"Real data of these crops: foot skating {report['real_foot_skating']:.3f}.")


if __name__ == "__main__":
    main()
