"""The shared language of reglab: what a run (spec/run.py) and an experiment (spec/experiment.py)
are, with the limits a class needs. Everything is imported from here: `from reglab.spec import
RunSpec, ExperimentSpec`.

Every field has a default, a unit in its description and bounds that keep one classroom server
alive. Specs are validated once, at the edge (API, CLI); everything below trusts them.
"""

from reglab.spec.experiment import ExperimentSpec, GridAxis, Planned, Variant
from reglab.spec.run import (
    CLASSIFICATION_2D,
    MAX_CLAIMS,
    MAX_DEPTH,
    MAX_EPOCHS,
    MAX_MEMBER_EPOCHS,
    MAX_MEMBERS,
    MAX_PRIVATE_TEST,
    MAX_PUBLIC_TEST,
    MAX_REPEATS,
    MAX_TRAIN,
    MAX_WIDTH,
    MIN_VAL,
    REGRESSION_1D,
    Activation,
    DataKind,
    DataSpec,
    L1Mode,
    ModelSpec,
    OptimizerKind,
    OptimizerSpec,
    RegularizationSpec,
    RunSpec,
    Task,
    TrainSpec,
    derive_seed,
    engine_version,
)

__all__ = [
    "CLASSIFICATION_2D",
    "MAX_CLAIMS",
    "MAX_DEPTH",
    "MAX_EPOCHS",
    "MAX_MEMBERS",
    "MAX_MEMBER_EPOCHS",
    "MAX_PRIVATE_TEST",
    "MAX_PUBLIC_TEST",
    "MAX_REPEATS",
    "MAX_TRAIN",
    "MAX_WIDTH",
    "MIN_VAL",
    "REGRESSION_1D",
    "Activation",
    "DataKind",
    "DataSpec",
    "ExperimentSpec",
    "GridAxis",
    "L1Mode",
    "ModelSpec",
    "OptimizerKind",
    "OptimizerSpec",
    "Planned",
    "RegularizationSpec",
    "RunSpec",
    "Task",
    "TrainSpec",
    "Variant",
    "derive_seed",
    "engine_version",
]
