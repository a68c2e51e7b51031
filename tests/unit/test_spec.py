"""The specs: defaults are sensible, limits hold, overrides name the field they break."""

import pytest
from pydantic import ValidationError
from reglab.errors import located
from reglab.spec import MAX_MEMBERS, DataSpec, ExperimentSpec, GridAxis, ModelSpec, RunSpec, Variant
from reglab.training.plan import Member, plan


def test_defaults_make_a_valid_run() -> None:
    spec = RunSpec()
    assert spec.data.task == "binary"
    assert spec.model.hidden == [64, 64]


def test_task_follows_the_data_kind() -> None:
    assert DataSpec(kind="sine").task == "regression"
    assert DataSpec(kind="digits").task == "multiclass"
    assert DataSpec(kind="spiral", classes=2).task == "binary"
    assert DataSpec(kind="spiral", classes=3).task == "multiclass"


def test_too_wide_layer_is_refused_with_its_index() -> None:
    with pytest.raises(ValidationError, match="hidden layer 1 has width 600"):
        ModelSpec(hidden=[8, 600])


def test_too_deep_network_is_refused() -> None:
    with pytest.raises(ValidationError, match="at most 8"):
        ModelSpec(hidden=[4] * 9)


def test_split_fractions_must_leave_training_data() -> None:
    with pytest.raises(ValidationError, match="val_fraction \\+ test_fraction"):
        DataSpec(val_fraction=0.5, test_fraction=0.4)


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        RunSpec.model_validate({"optimizer": {"learning_rate": 0.1}})


def test_variant_override_changes_only_its_fields() -> None:
    exp = ExperimentSpec(
        base=RunSpec.model_validate({"optimizer": {"lr": 0.05}}),
        variants=[
            Variant(name="none"),
            Variant(name="l2", override={"regularization": {"l2": 0.01}}),
        ],
    )
    (n0, s0), (n1, s1) = exp.runs()
    assert (n0, n1) == ("none", "l2")
    assert s0.regularization.l2 == 0.0 and s1.regularization.l2 == 0.01
    assert s1.optimizer.lr == 0.05
    assert s0.model_dump(exclude={"regularization"}) == s1.model_dump(exclude={"regularization"})


def test_bad_override_names_the_variant_and_field() -> None:
    with pytest.raises(ValidationError) as caught:
        ExperimentSpec(
            variants=[
                Variant(name="ok"),
                Variant(name="bad", override={"regularization": {"l2": 7}}),
            ]
        )
    loc, msg = located(caught.value.errors()[0])
    assert loc == ("variants", 1, "override", "regularization", "l2")
    assert msg == "Input should be less than or equal to 1"


def test_variant_names_must_be_unique() -> None:
    with pytest.raises(ValidationError, match="repeated: a"):
        ExperimentSpec(variants=[Variant(name="a"), Variant(name="a")])


def test_grid_is_the_product_of_its_axes() -> None:
    exp = ExperimentSpec(
        grid=[
            GridAxis(field="regularization.dropout", values=[0.0, 0.5]),
            GridAxis(field="optimizer.lr", values=[0.1, 0.01, 0.001]),
        ]
    )
    runs = exp.runs()
    assert len(runs) == 6
    assert runs[0][0] == "dropout=0.0 lr=0.1"
    assert {(s.regularization.dropout, s.optimizer.lr) for _, s in runs} == {
        (d, lr) for d in (0.0, 0.5) for lr in (0.1, 0.01, 0.001)
    }


def test_variants_and_grid_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="not both"):
        ExperimentSpec(
            variants=[Variant(name="a")],
            grid=[GridAxis(field="regularization.l2", values=[0.1])],
        )


def test_too_many_runs_are_refused() -> None:
    with pytest.raises(ValidationError, match=f"limit is {MAX_MEMBERS}"):
        ExperimentSpec(
            grid=[
                GridAxis(field="regularization.l2", values=[i / 100 for i in range(9)]),
                GridAxis(field="regularization.l1", values=[i / 100 for i in range(8)]),
            ]
        )


def test_member_epoch_budget_is_enforced() -> None:
    with pytest.raises(ValidationError, match="epochs over all runs"):
        ExperimentSpec(
            base=RunSpec.model_validate({"train": {"epochs": 2000}}),
            grid=[
                GridAxis(field="regularization.l2", values=[i / 100 for i in range(7)]),
                GridAxis(field="regularization.l1", values=[i / 100 for i in range(5)]),
            ],
        )


def test_plan_groups_runs_that_can_share_a_batch() -> None:
    exp = ExperimentSpec(
        variants=[
            Variant(name="adam"),
            Variant(name="adam-l2", override={"regularization": {"l2": 0.1}}),
            Variant(name="sgd", override={"optimizer": {"kind": "sgd"}}),
            Variant(name="adam-dropout", override={"regularization": {"dropout": 0.5}}),
            Variant(name="wide", override={"model": {"hidden": [128]}}),
        ]
    )
    members = [Member(i, name, spec) for i, (name, spec) in enumerate(exp.runs())]
    groups = plan(members)
    assert [[m.name for m in g.members] for g in groups] == [
        ["adam", "adam-l2", "adam-dropout"],
        ["sgd"],
        ["wide"],
    ]
    assert groups[0].run_ids == [0, 1, 3]


def test_a_validation_split_too_small_to_measure_is_refused() -> None:
    with pytest.raises(ValidationError, match="leaves 0 validation examples"):
        DataSpec(n_train=10, val_fraction=0.01)


def test_repeats_train_every_variant_r_times_with_paired_seeds() -> None:
    exp = ExperimentSpec.model_validate(
        {
            "repeats": 3,
            "base": {"data": {"seed": 5}, "model": {"init_seed": 1}, "train": {"seed": 2}},
            "variants": [
                {"name": "none"},
                {"name": "l2", "override": {"regularization": {"l2": 0.1}}},
            ],
        }
    )
    planned = exp.members()
    assert [(p.variant, p.replicate, p.name) for p in planned] == [
        ("none", 0, "none #1"),
        ("none", 1, "none #2"),
        ("none", 2, "none #3"),
        ("l2", 0, "l2 #1"),
        ("l2", 1, "l2 #2"),
        ("l2", 2, "l2 #3"),
    ]
    by = {(p.variant, p.replicate): p.spec for p in planned}
    assert by["none", 0].model.init_seed == 1 and by["none", 0].train.seed == 2
    for r in range(3):
        # Replicate r of every variant shares initial weights and batch order: a paired design.
        assert by["none", r].model.init_seed == by["l2", r].model.init_seed
        assert by["none", r].train.seed == by["l2", r].train.seed
        assert by["l2", r].regularization.l2 == 0.1
        assert by["none", r].data == by["none", 0].data  # one split for all
    assert len({by["none", r].model.init_seed for r in range(3)}) == 3
    assert len({by["none", r].train.seed for r in range(3)}) == 3


def test_one_repeat_keeps_the_names_and_seeds_of_today() -> None:
    exp = ExperimentSpec.model_validate({"variants": [{"name": "a"}, {"name": "b"}]})
    assert [(p.name, p.spec) for p in exp.members()] == exp.runs()


def test_replicates_share_one_lockstep_group() -> None:
    exp = ExperimentSpec.model_validate({"repeats": 4, "variants": [{"name": "a"}, {"name": "b"}]})
    members = [Member(i, p.name, p.spec) for i, p in enumerate(exp.members())]
    assert len(plan(members)) == 1


def test_repeats_count_toward_the_run_and_epoch_limits() -> None:
    variants = [{"name": f"v{i}"} for i in range(7)]
    with pytest.raises(ValidationError, match="7 variants × 10 repeats = 70 runs"):
        ExperimentSpec.model_validate({"repeats": 10, "variants": variants})
    with pytest.raises(ValidationError, match="repeats"):
        ExperimentSpec.model_validate({"repeats": 11})


def test_the_reference_must_be_a_variant_and_defaults_to_none_else_the_first() -> None:
    two = [{"name": "a"}, {"name": "none"}]
    assert ExperimentSpec.model_validate({"variants": two}).reference_name() == "none"
    assert ExperimentSpec.model_validate({"variants": two[:1]}).reference_name() == "a"
    assert (
        ExperimentSpec.model_validate({"variants": two, "reference": "a"}).reference_name() == "a"
    )
    with pytest.raises(ValidationError, match="reference 'b' is not one of the variants"):
        ExperimentSpec.model_validate({"variants": two, "reference": "b"})
