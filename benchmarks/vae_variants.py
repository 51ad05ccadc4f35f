"""Training-step time of motion VAE variants, side by side on the same real batches.

Chooses the CPU configuration of issue 3: MotionLCM-V2's reference sizes against variants that
group frames into tokens (``temporal_patch``) and/or use a narrower, shallower transformer, and the
time-aligned latent (no distribution tokens, no cross-attention) that the default now uses.

    python -m benchmarks.vae_variants --data data/bandai --batch-size 64 --steps 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from benchmarks.report import emit, machine_description
from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion
from motionlcm_node.networks.vae import MotionVAE, MotionVAEConfig

VARIANTS = {
    "reference (V2: 9 layers, width 256, 1 frame/token)": MotionVAEConfig(),
    "9 layers, width 256, 4 frames/token": MotionVAEConfig(temporal_patch=4),
    "5 layers, width 256, 4 frames/token": MotionVAEConfig(temporal_patch=4, num_layers=5),
    "5 layers, width 128, 4 frames/token": MotionVAEConfig(temporal_patch=4, num_layers=5, width=128, ff_width=512),
    "5 layers, width 128, 2 frames/token": MotionVAEConfig(temporal_patch=2, num_layers=5, width=128, ff_width=512),
    "5 layers, width 128, 2 frames/token, time-aligned latent (default)": MotionVAEConfig(
        temporal_patch=2, num_layers=5, width=128, ff_width=512, time_aligned_latent=True
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/bandai"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dataset = HumanML3DDataset(args.data, "train", min_length=24)
    loader = torch.utils.data.DataLoader(dataset, args.batch_size, shuffle=True, collate_fn=collate_motion)
    batches = [batch for _, batch in zip(range(args.steps + 1), loader, strict=False)]
    rows, results = [], {}
    reference_ms = None
    for name, config in VARIANTS.items():
        model = MotionVAE(config)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        timings = []
        for batch in batches:
            start = time.perf_counter()
            reconstruction, _, _ = model(batch["motion"], batch["lengths"])
            loss = (reconstruction - batch["motion"]).abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            timings.append(time.perf_counter() - start)
        step_ms = 1000.0 * sum(timings[1:]) / len(timings[1:])  # first step is warm-up
        reference_ms = reference_ms or step_ms
        parameters = sum(p.numel() for p in model.parameters())
        results[name] = {"config": config.to_dict(), "parameters": parameters, "train_step_ms": step_ms}
        rows.append([name, f"{parameters / 1e6:.1f} M", f"{step_ms:.0f}", f"{reference_ms / step_ms:.1f}x"])
    frames = float(sum(b["lengths"].float().mean() for b in batches[1:]) / len(batches[1:]))
    emit(
        {"machine": machine_description(), "batch_size": args.batch_size, "mean_frames": frames, "variants": results},
        ["variant", "parameters", f"train step ms (batch {args.batch_size})", "speed vs reference"],
        rows,
    )


if __name__ == "__main__":
    main()
