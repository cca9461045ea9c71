"""How many examples the model-based tests play: a bounded number in CI (`pytest`), thousands with
``KARTU_MODEL_EXAMPLES`` (see the README's "Model-based tests")."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

EXAMPLES = int(os.environ.get("KARTU_MODEL_EXAMPLES", "0"))
SHRINK = os.environ.get("KARTU_MODEL_SHRINK", "1") != "0"  # 0: report the first failure as found


def model_settings(ci_examples: int, steps: int) -> settings:
    """``ci_examples`` sequences of up to ``steps`` steps, or the long run's number."""
    return settings(
        max_examples=EXAMPLES or ci_examples,
        stateful_step_count=steps,
        deadline=None,  # a step does real I/O on a real database
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        derandomize=not EXAMPLES,  # CI plays the same sequences every run; a long run explores
        print_blob=True,
        phases=tuple(Phase) if SHRINK else tuple(phase for phase in Phase if phase is not Phase.shrink),
    )
