"""Where the VAE's foot skating and pose error come from: reconstructions with parts swapped for truth.

    python -m benchmarks.vae_skating --data data/bandai --models models

Encodes one draw of test crops (the ``motionlcm eval`` protocol's first draw), decodes the posterior
means and scores, each with MPJPE (pelvis-relative and global, cm), the foot-skating ratio
(``motion_metrics.foot_skating_ratio``) and jitter:

* real data and the plain reconstruction;
* the reconstruction smoothed in time (Gaussian, sigma in frames, on the decoded features): does
  skating come from frame-to-frame jitter?
* the reconstruction with the true root (yaw and XZ velocity, height) or with the true local pose
  (everything but the root): which half of the features skates?

It also reports how fast the reconstructed toes move on frames where the true foot is in contact,
and how often the decoded contact labels are on (could they drive foot locking?). On a split
other than the test split (``--split train``) the same numbers tell under- from over-fitting.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from scipy.ndimage import gaussian_filter1d

from benchmarks.report import emit
from motionlcm_node.data.dataset import FPS, HumanML3DDataset
from motionlcm_node.data.features import FOOT_CONTACTS, ROOT_FEATURES
from motionlcm_node.data.recovery import recover_joints
from motionlcm_node.evaluation import motion_metrics
from motionlcm_node.evaluation.protocol import draw_test_set
from motionlcm_node.machine import machine_description
from motionlcm_node.model_store import load_vae

TOES = (10, 11)
TOE_CONTACTS = (FOOT_CONTACTS.start + 1, FOOT_CONTACTS.start + 3)  # labels order: 7, 10, 8, 11


def _scores(joints: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> dict[str, float]:
    relative, true_relative = joints - joints[..., :1, :], truth - truth[..., :1, :]
    return {
        "mpjpe_cm": 100 * motion_metrics.mpjpe(relative, true_relative, mask),
        "global_mpjpe_cm": 100 * motion_metrics.mpjpe(joints, truth, mask),
        "foot_skating": motion_metrics.foot_skating_ratio(joints, lengths),
        "jitter": motion_metrics.jitter(joints, lengths),
    }


def run(data: Path, vae_dir: Path, split: str, seed: int, sigmas: tuple[float, ...]) -> dict[str, object]:
    """Scores of the variants (see the module docstring) on one draw of crops."""
    vae, normalizer = load_vae(vae_dir)
    vae.eval()
    dataset = HumanML3DDataset(data, split, min_length=24, max_length=196)
    dataset.mean, dataset.std = normalizer.mean.numpy(), normalizer.std.numpy()
    draw = draw_test_set(dataset, seed)
    mask, lengths = draw.mask, draw.lengths
    raw = normalizer.denormalize(draw.motion) * mask[..., None]
    with torch.no_grad():
        decoded, _, _ = vae(draw.motion, lengths, sample=False)
    reconstruction = normalizer.denormalize(decoded) * mask[..., None]
    truth = recover_joints(raw)
    variants = {"real data": raw, "reconstruction": reconstruction}
    for sigma in sigmas:
        smoothed = gaussian_filter1d(reconstruction.numpy(), sigma, axis=1, mode="nearest")
        variants[f"reconstruction smoothed (sigma {sigma:g} frames)"] = torch.from_numpy(smoothed) * mask[..., None]
    true_root = reconstruction.clone()
    true_root[..., ROOT_FEATURES] = raw[..., ROOT_FEATURES]
    variants["reconstruction with the true root"] = true_root
    true_pose = raw.clone()
    true_pose[..., ROOT_FEATURES] = reconstruction[..., ROOT_FEATURES]
    variants["true local pose with the reconstructed root"] = true_pose
    rows = {name: _scores(recover_joints(features), truth, mask, lengths) for name, features in variants.items()}

    pairs = mask[:, 1:] & mask[:, :-1]
    contact = (raw[:, :-1, list(TOE_CONTACTS)] > 0.5) & pairs[..., None]
    joints = recover_joints(reconstruction)
    speeds = {}
    for name, positions in (("real", truth), ("reconstruction", joints)):
        toes = positions[:, :, list(TOES)][..., [0, 2]]
        speeds[name] = ((toes[:, 1:] - toes[:, :-1]).norm(dim=-1) * FPS)[contact]
    decoded_contacts = reconstruction[:, :, FOOT_CONTACTS] > 0.5
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine_description(),
        "vae": str(vae_dir),
        "split": split,
        "crops": len(lengths),
        "rows": rows,
        "toe_speed_on_true_contact_frames_m_per_s": {
            name: {"median": float(values.median()), "share_above_0.5": float((values > 0.5).float().mean())}
            for name, values in speeds.items()
        },
        "contact_labels_on": {
            "real": float((raw[:, :, FOOT_CONTACTS] > 0.5)[mask].float().mean()),
            "decoded": float(decoded_contacts[mask].float().mean()),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/bandai"), help="prepared dataset")
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder with vae/")
    parser.add_argument("--split", default="test", help="split to draw crops from (test)")
    parser.add_argument("--seed", type=int, default=0, help="crop draw seed (0 = eval's first repeat)")
    parser.add_argument("--sigmas", type=float, nargs="*", default=[1.0, 2.0], help="smoothing sigmas, frames")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    report = run(args.data, args.models / "vae", args.split, args.seed, tuple(args.sigmas))
    header = ["variant", "MPJPE (cm)", "global MPJPE (cm)", "foot skating", "jitter (m/s^3)"]
    table = [[name, f"{row['mpjpe_cm']:.2f}", f"{row['global_mpjpe_cm']:.2f}", f"{row['foot_skating']:.3f}",
              f"{row['jitter']:.1f}"] for name, row in report["rows"].items()]  # fmt: skip
    emit(report, header, table)
    speeds, labels = report["toe_speed_on_true_contact_frames_m_per_s"], report["contact_labels_on"]
    real, reconstructed = speeds["real"], speeds["reconstruction"]
    print(
        f"Toes on frames where the true foot is in contact: median speed {real['median']:.3f} m/s real, "
        f"{reconstructed['median']:.3f} m/s reconstructed ({100 * reconstructed['share_above_0.5']:.0f}% above "
        f"0.5 m/s). Contact labels on: {100 * labels['real']:.0f}% real, {100 * labels['decoded']:.0f}% decoded."
    )


if __name__ == "__main__":
    main()
