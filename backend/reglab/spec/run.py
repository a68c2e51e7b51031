"""What one run is: its data, network, optimizer, regularization and training, with the limits
a class needs, and what makes two runs the same computation (seeds, fingerprint).

Every field has a default, a unit in its description and bounds that keep one classroom server
alive. Specs are validated once, at the edge (API, CLI); everything below trusts them.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reglab.errors import SpecError

MAX_MEMBERS = 64
MAX_REPEATS = 10
MAX_CLAIMS = 8
MAX_EPOCHS = 2000
MAX_WIDTH = 512
MAX_DEPTH = 8
MAX_TRAIN = 20_000
MIN_VAL = 5
MAX_PUBLIC_TEST = 500
MAX_PRIVATE_TEST = 5000
# Epochs × runs of one experiment: a class of 60 must not be stalled by one student's sweep.
MAX_MEMBER_EPOCHS = 64_000  # 32 runs × 2,000 epochs; what a group costs is admitted by cost

DataKind = Literal["moons", "circles", "xor", "spiral", "gaussians", "poly", "sine", "digits"]
Activation = Literal["sigmoid", "tanh", "relu", "leaky_relu", "maxout"]
OptimizerKind = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
L1Mode = Literal["subgradient", "proximal"]
Task = Literal["binary", "multiclass", "regression"]

CLASSIFICATION_2D: frozenset[str] = frozenset({"moons", "circles", "xor", "spiral", "gaussians"})
REGRESSION_1D: frozenset[str] = frozenset({"poly", "sine"})


class _Spec(BaseModel):
    # NaN and ±Inf are refused in every number (JSON bodies may carry NaN; no bound holds it).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DataSpec(_Spec):
    """Which data set, how big, how noisy, and how it is split."""

    kind: DataKind = Field(
        "moons",
        description="Data set: 2-D classification (moons, circles, "
        "xor, spiral, gaussians), 1-D regression (poly, sine) or digits (8×8 images).",
    )
    n_train: int = Field(200, ge=10, le=MAX_TRAIN, description="Training examples (count).")
    val_fraction: float = Field(
        0.3,
        gt=0.0,
        le=0.6,
        description="Share of all examples held out for validation (fraction of 1).",
    )
    test_fraction: float = Field(
        0.2,
        ge=0.0,
        le=0.4,
        description="Share of all examples held out for the final test (fraction of 1).",
    )
    noise: float = Field(
        0.25, ge=0.0, le=3.0, description="Input noise (standard deviation, in data units)."
    )
    label_noise: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        description="Share of training labels flipped "
        "at random (fraction of 1; classification only).",
    )
    classes: int = Field(3, ge=2, le=10, description="Classes (count; spiral and gaussians only).")
    degree: int = Field(3, ge=1, le=15, description="Degree of the true polynomial (poly only).")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of data generation and split.")
    # A challenge's two test splits (reglab/challenges.py); 0 and 0 keep the one test split above.
    public_test: int = Field(
        0,
        ge=0,
        le=MAX_PUBLIC_TEST,
        description="Points of a challenge's public test split, scored live on its board (count).",
        json_schema_extra={"x-challenge": True},
    )
    private_test: int = Field(
        0,
        ge=0,
        le=MAX_PRIVATE_TEST,
        description="When above 0, the test split has this many points: a challenge's private "
        "test, hidden until its reveal (count).",
        json_schema_extra={"x-challenge": True},
    )

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> DataSpec:
        if self.val_fraction + self.test_fraction >= 0.8:
            raise ValueError(
                "val_fraction + test_fraction must stay below 0.8, so that training keeps data; "
                "lower one of them."
            )
        n_val = round(
            self.n_train / (1 - self.val_fraction - self.test_fraction) * self.val_fraction
        )
        if n_val < MIN_VAL:
            raise ValueError(
                f"val_fraction {self.val_fraction} of this data set leaves {n_val} validation "
                f"examples; at least {MIN_VAL} are needed to see overfitting. "
                "Raise val_fraction or n_train."
            )
        if self.kind == "digits" and (self.public_test or self.private_test):
            raise ValueError(
                "digits has only 1,797 images: a challenge's public and private test splits "
                "need a generated data set (moons, circles, xor, spiral, gaussians, poly, sine)."
            )
        return self

    @property
    def task(self) -> Task:
        if self.kind in REGRESSION_1D:
            return "regression"
        if self.kind == "digits" or (self.kind in {"spiral", "gaussians"} and self.classes > 2):
            return "multiclass"
        return "binary"


class ModelSpec(_Spec):
    """The network: a multilayer perceptron with one activation throughout."""

    hidden: list[int] = Field(
        default=[64, 64],
        max_length=MAX_DEPTH,
        description="Width of each hidden layer (units), input to output.",
    )
    activation: Activation = Field(
        "relu",
        description="Hidden activation; maxout takes the max "
        "over `maxout_pieces` linear pieces per unit.",
    )
    maxout_pieces: int = Field(2, ge=2, le=8, description="Linear pieces per maxout unit (count).")
    init_seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the initial weights.")

    @model_validator(mode="after")
    def _widths_in_range(self) -> ModelSpec:
        for i, width in enumerate(self.hidden):
            if not 1 <= width <= MAX_WIDTH:
                msg = f"hidden layer {i} has width {width}; use 1 to {MAX_WIDTH} units."
                raise SpecError(("hidden", i), msg)
        return self


class OptimizerSpec(_Spec):
    """How gradients become updates."""

    kind: OptimizerKind = Field(
        "adam",
        description="sgd, momentum, nesterov, adagrad, rmsprop, "
        "adam or adamw (Adam with decoupled weight decay).",
    )
    lr: float = Field(0.01, gt=0.0, le=10.0, description="Learning rate η (step size).")
    momentum: float = Field(
        0.9, ge=0.0, lt=1.0, description="Momentum coefficient (momentum, nesterov)."
    )
    beta1: float = Field(0.9, ge=0.0, lt=1.0, description="Adam β1 (decay of the mean).")
    beta2: float = Field(0.999, ge=0.0, lt=1.0, description="Adam β2 (decay of the square).")
    alpha: float = Field(0.99, ge=0.0, lt=1.0, description="RMSProp decay of the mean square.")
    eps: float = Field(
        1e-8, gt=0.0, le=1.0, description="Added to denominators (adagrad, rmsprop, adam)."
    )


class RegularizationSpec(_Spec):
    """The overfitting remedies of the lecture. Biases are never regularized."""

    l1: float = Field(0.0, ge=0.0, le=1.0, description="L1 penalty λ·Σ|w| on weights (λ).")
    l1_mode: L1Mode = Field(
        "subgradient",
        description="subgradient: add λ·sign(w) to the "
        "gradient; proximal: soft-threshold after each step (exact zeros).",
    )
    l2: float = Field(0.0, ge=0.0, le=1.0, description="L2 penalty λ·½Σw² in the loss (λ).")
    weight_decay: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Decoupled weight decay: w ← w − η·λ·w after the step (λ); AdamW's kind.",
    )
    dropout: float = Field(
        0.0,
        ge=0.0,
        le=0.9,
        description="Share of hidden units dropped at "
        "each update (fraction of 1), resampled every update.",
    )
    input_dropout: float = Field(
        0.0, ge=0.0, le=0.9, description="Share of inputs dropped at each update (fraction of 1)."
    )
    early_stopping: bool = Field(
        False, description="Stop when validation loss has not improved for `patience` epochs."
    )
    patience: int = Field(
        20, ge=1, le=MAX_EPOCHS, description="Epochs without improvement before stopping (epochs)."
    )
    min_delta: float = Field(
        0.0,
        ge=0.0,
        le=10.0,
        description="Smallest drop in validation loss that counts as improvement (loss units).",
    )
    restore_best: bool = Field(
        True,
        description="After stopping, report and keep the weights of the best validation epoch.",
    )


class TrainSpec(_Spec):
    """How long and in what order."""

    epochs: int = Field(
        200, ge=1, le=MAX_EPOCHS, description="Passes over the training data (epochs)."
    )
    batch_size: int = Field(32, ge=1, le=4096, description="Examples per update (count).")
    seed: int = Field(
        0, ge=0, le=2**31 - 1, description="Seed of the minibatch order and dropout masks."
    )
    snapshot_every: int = Field(
        10,
        ge=1,
        le=MAX_EPOCHS,
        description="Epochs between snapshots (histograms, decision boundary).",
    )
    thinned_nets: bool = Field(
        False,
        description="Each snapshot also pictures dropout's thinned nets against the scaled net "
        "(dropout on a 2-D two-class data set; slower).",
    )


class RunSpec(_Spec):
    """One network trained one way."""

    data: DataSpec = Field(default_factory=DataSpec)
    model: ModelSpec = Field(default_factory=ModelSpec)
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    regularization: RegularizationSpec = Field(default_factory=RegularizationSpec)
    train: TrainSpec = Field(default_factory=TrainSpec)

    @model_validator(mode="after")
    def _thinned_nets_need_dropout_on_the_plane(self) -> RunSpec:
        if not self.train.thinned_nets:
            return self
        reg = self.regularization
        if reg.dropout <= 0 and reg.input_dropout <= 0:
            raise SpecError(
                ("train", "thinned_nets"),
                "thinned nets are what dropout trains: set regularization.dropout or "
                "input_dropout above 0, or turn thinned_nets off.",
            )
        if self.data.task != "binary":
            raise SpecError(
                ("train", "thinned_nets"),
                "thinned nets are pictured on the input plane: use a 2-D two-class data set "
                "(moons, circles, xor, or spiral or gaussians with 2 classes), or turn "
                "thinned_nets off.",
            )
        return self

    def group_key(self) -> tuple[Any, ...]:
        """What runs must share to be trained in lockstep as one batched computation.

        Not the train seed: each member draws its own minibatch order and dropout masks from
        it (members with one seed share them), so replicates train together.
        """
        return (
            self.data.model_dump_json(),
            tuple(self.model.hidden),
            self.model.activation,
            self.model.maxout_pieces,
            self.optimizer.kind,
            self.train.batch_size,
        )

    def replicate(self, r: int) -> RunSpec:
        """Replicate r of this run: its own initial weights, batch order and dropout masks.

        r = 0 is the run itself; r > 0 derives both seeds from the run's own and r, so that
        replicate r of every variant of an experiment shares initial weights and batch order
        (the comparison stays paired). The data split (data.seed) is never changed.
        """
        if r == 0:
            return self
        return self.model_copy(
            update={
                "model": self.model.model_copy(
                    update={"init_seed": derive_seed(self.model.init_seed, r)}
                ),
                "train": self.train.model_copy(update={"seed": derive_seed(self.train.seed, r)}),
            }
        )

    def fingerprint(self) -> str:
        """What makes two runs the same computation: every field (seeds included) and the
        training code's version. Equal fingerprints train to equal numbers (on one kind of CPU).
        """
        text = f"{engine_version()}:{self.model_dump_json()}"
        return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def engine_version() -> str:
    """A digest of the training code (reglab/training/*.py): it changes whenever the numbers a
    spec trains to could change, so a stored run is never served for a spec the code now
    trains differently."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent.parent / "training").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def derive_seed(seed: int, r: int) -> int:
    """A seed for replicate r > 0, a fixed function of (seed, r), in the seeds' range."""
    digest = hashlib.sha256(f"reglab-replicate:{seed}:{r}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**31 - 1)
