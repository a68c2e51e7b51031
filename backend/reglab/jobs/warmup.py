"""A training process's warm-up, the one the local pool's workers and Ray's workers both run.

A new process pays ~2 s for `import torch`, ~2 s more at its first `torch.optim` optimizer (which
pulls in `torch._dynamo`) and ~1 s at its first group for lazy imports. A warm worker pays them
before it takes work, so a student's first epoch comes without that delay.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Use one torch thread, build one optimizer and train one tiny run, thrown away."""
    import torch

    # One thread per worker: N workers use N cores without fighting (Ray counts one CPU each).
    torch.set_num_threads(1)
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

    from reglab.spec import RunSpec
    from reglab.training.loop import train_bursts
    from reglab.training.plan import Group, Member

    spec = RunSpec.model_validate(
        {"data": {"n_train": 20}, "model": {"hidden": [4]}, "train": {"epochs": 1}}
    )
    try:
        for _ in train_bursts(Group((Member(-1, "warm-up", spec),))):
            pass
    except Exception:  # a broken engine shows itself on the first real group, with its reason
        log.exception("warm-up run failed")
