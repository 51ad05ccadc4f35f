"""The student's step table: which grid timesteps and guidance scale each step count uses.

The student is distilled on a grid of ``original_steps`` DDIM timesteps (``k - 1, 2k - 1, ..., 999``
with ``k = 1000 / original_steps``), so every timestep it is asked for at inference must lie on that
grid. The table maps a step count to the timesteps used and the guidance scale ``w`` fed to the
student's guidance embedding; it is saved in the student's ``config.json`` and can be overridden.
No torch: the inference path reads it without loading a network.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from motionlcm_node.errors import MotionLCMError

#: Distillation grid of MotionLCM V1 (skip k = 20).
DEFAULT_ORIGINAL_STEPS = 50


@dataclass(frozen=True)
class StepPlan:
    """How to sample with a given number of consistency steps.

    Attributes:
        timesteps: strictly descending DDPM timesteps, all on the distillation grid.
        guidance: guidance scale ``w`` given to the student.
    """

    timesteps: tuple[int, ...]
    guidance: float

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return {"timesteps": list(self.timesteps), "guidance": self.guidance}


def grid_timesteps(original_steps: int) -> list[int]:
    """The distillation grid, ascending: ``k - 1, 2k - 1, ..., 999``."""
    if original_steps < 1 or 1000 % original_steps:
        raise MotionLCMError(f"original_steps must divide 1000, got {original_steps}")
    skip = 1000 // original_steps
    return [skip * (index + 1) - 1 for index in range(original_steps)]


def default_step_table(original_steps: int = DEFAULT_ORIGINAL_STEPS, guidance: float = 7.5) -> dict[int, StepPlan]:
    """1, 2 and 4 steps spread evenly from the top of the grid (MotionLCM V1's tables for 50)."""
    grid = grid_timesteps(original_steps)
    table = {}
    for steps in (1, 2, 4):
        picks = sorted({grid[len(grid) - 1 - (index * len(grid)) // steps] for index in range(steps)}, reverse=True)
        table[steps] = StepPlan(tuple(picks), guidance)
    return table


def validate_step_table(table: dict[int, StepPlan], original_steps: int) -> None:
    """Raise ``MotionLCMError`` unless every plan is descending, on the grid and of its stated length."""
    grid = set(grid_timesteps(original_steps))
    for steps, plan in table.items():
        times = list(plan.timesteps)
        if len(times) != steps or any(a <= b for a, b in itertools.pairwise(times)):
            raise MotionLCMError(f"step table: {steps} steps need {steps} strictly descending timesteps, got {times}")
        if not set(times) <= grid:
            raise MotionLCMError(f"step table: timesteps {sorted(set(times) - grid)} are not on the distillation grid")
        if plan.guidance < 0:
            raise MotionLCMError(f"step table: negative guidance {plan.guidance}")


def step_table_from_dict(raw: dict[str, object]) -> dict[int, StepPlan]:
    """Inverse of ``{str(steps): plan.to_dict()}`` (the JSON form)."""
    try:
        return {int(steps): StepPlan(tuple(int(t) for t in plan["timesteps"]), float(plan["guidance"]))
                for steps, plan in raw.items()}  # fmt: skip
    except (TypeError, KeyError, ValueError) as error:
        raise MotionLCMError(f"step table: malformed ({error})") from None
