"""Entry point of the ``motionlcm`` command.

Each subcommand lives in its own module exposing ``register(subparsers)``; the list below is explicit
(no plugin discovery) so that ``motionlcm --help`` shows exactly what this package ships.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from motionlcm_node import __version__
from motionlcm_node.cli import (
    data_commands,
    demo_command,
    eval_command,
    export_command,
    generate_command,
    replay_command,
    retarget_command,
    send_command,
    train_command,
)
from motionlcm_node.errors import MotionLCMError

SUBCOMMAND_MODULES = (
    data_commands,
    demo_command,
    generate_command,
    train_command,
    eval_command,
    retarget_command,
    export_command,
    replay_command,
    send_command,
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="motionlcm", description="Real-time text-to-motion for humanoid robots (MotionLCM + ROS 2)."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code (2 for bad input, 1 for other errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    try:
        return int(args.handler(args) or 0)
    except MotionLCMError as error:
        print(f"motionlcm: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motionlcm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
