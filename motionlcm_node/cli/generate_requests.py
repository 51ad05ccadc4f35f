"""Prompts of ``motionlcm generate``: positional prompts and prompt files, checked, and folder names.

A prompt file holds one prompt per line; blank lines and lines starting with ``#`` are skipped, and a
line may start with its own duration in seconds: ``6.0 | a person walks in a circle``.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from motionlcm_node.errors import MotionLCMError


@dataclass(frozen=True)
class Request:
    """One prompt to generate.

    Attributes:
        prompt: the sentence.
        seconds: duration in seconds.
        source: where the prompt came from (for error messages).
    """

    prompt: str
    seconds: float
    source: str


def parse_prompt_file(path: Path, default_seconds: float) -> list[Request]:
    """Prompts of a file: one per line, ``#`` comments and blank lines skipped, ``S | prompt`` sets seconds.

    Args:
        path: text file (UTF-8).
        default_seconds: duration of lines without their own, s.

    Raises:
        MotionLCMError: unreadable file or an empty prompt.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise MotionLCMError(f"cannot read prompt file {path}: {error}") from None
    requests = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        seconds, prompt = default_seconds, line
        head, bar, tail = line.partition("|")
        if bar:
            try:
                seconds, prompt = float(head), tail.strip()
            except ValueError:
                pass  # no leading duration: the bar belongs to the prompt
        if not prompt:
            raise MotionLCMError(f"{path}:{number}: empty prompt")
        requests.append(Request(prompt, seconds, f"{path}:{number}"))
    return requests


def collect_requests(args: argparse.Namespace) -> list[Request]:
    """The positional prompts, then the prompt file's, each checked (non-empty, a usable duration).

    Raises:
        MotionLCMError: no prompt, an empty prompt, or a duration that is not positive / too long.
    """
    from motionlcm_node.sampling.lcm_pipeline import lengths_from_seconds

    requests = []
    for index, prompt in enumerate(args.prompts, start=1):
        if not prompt.strip():
            raise MotionLCMError(f"prompt {index} is empty; describe the motion, e.g. 'a person jumps'")
        requests.append(Request(prompt.strip(), args.seconds, f"prompt {index}"))
    if args.prompt_file is not None:
        requests += parse_prompt_file(args.prompt_file, args.seconds)
    if not requests:
        raise MotionLCMError("no prompt: give one or more PROMPT arguments or --prompt-file")
    for request in requests:
        try:
            lengths_from_seconds([request.seconds])
        except MotionLCMError as error:
            raise MotionLCMError(f"{request.source}: {error}") from None
    return requests


def slugify(prompt: str, max_chars: int = 40) -> str:
    """A folder-name-safe short form of a prompt: lower case, ``_`` between words, at most ``max_chars``."""
    slug = re.sub(r"[^a-z0-9]+", "_", prompt.lower()).strip("_")[:max_chars].rstrip("_")
    return slug or "motion"
