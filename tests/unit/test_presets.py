"""The lessons: stable names, valid specs, and the variants each lesson's claim needs."""

import itertools

import pytest
from reglab.presets import LESSONS, LessonNotFound, get_lesson
from reglab.training.plan import Member, plan

STABLE = [
    "overfitting",
    "l1-vs-l2",
    "optimizers",
    "vanishing-gradients",
    "adamw-vs-l2",
    "dropout-sweep",
    "l2-sweep",
    "dropout-ensemble",
]


def test_lesson_names_are_the_stable_identifiers() -> None:
    assert list(LESSONS) == STABLE
    for name, lesson in LESSONS.items():
        assert lesson.name == name == lesson.spec.lesson
        assert lesson.title and lesson.description


def test_overfitting_compares_every_remedy_with_none() -> None:
    names = [name for name, _ in get_lesson("overfitting").spec.runs()]
    assert names == ["none", "l2", "l1", "dropout", "early-stopping", "all"]
    none = dict(get_lesson("overfitting").spec.runs())["none"].regularization
    assert none.l1 == none.l2 == none.dropout == 0 and not none.early_stopping


def test_optimizers_lesson_races_the_five_kinds() -> None:
    kinds = [spec.optimizer.kind for _, spec in get_lesson("optimizers").spec.runs()]
    assert kinds == ["sgd", "momentum", "adagrad", "rmsprop", "adam"]


def test_vanishing_gradients_compares_activations_on_a_deep_net() -> None:
    runs = get_lesson("vanishing-gradients").spec.runs()
    assert [spec.model.activation for _, spec in runs] == ["sigmoid", "relu", "maxout"]
    assert all(len(spec.model.hidden) >= 5 for _, spec in runs)


def test_dropout_sweep_is_a_grid_over_dropout_from_zero() -> None:
    rates = [spec.regularization.dropout for _, spec in get_lesson("dropout-sweep").spec.runs()]
    assert rates[0] == 0.0 and rates == sorted(rates) and len(rates) >= 5


def test_l2_sweep_is_a_log_spaced_grid_over_l2_spanning_decades() -> None:
    strengths = [spec.regularization.l2 for _, spec in get_lesson("l2-sweep").spec.runs()]
    assert strengths == sorted(strengths) and len(strengths) >= 5
    assert strengths[0] > 0 and strengths[-1] / strengths[0] >= 1000
    ratios = [b / a for a, b in itertools.pairwise(strengths)]
    assert max(ratios) / min(ratios) < 1.2  # evenly spaced on a log axis


def test_every_lesson_states_its_claims_as_data() -> None:
    for name, lesson in LESSONS.items():
        assert 1 <= len(lesson.spec.claims) <= 8, name
        assert all(claim.endswith(".") for claim in lesson.spec.claims), name


@pytest.mark.parametrize("name", ["overfitting", "dropout-sweep", "l2-sweep"])
def test_lessons_about_small_differences_repeat_each_variant(name: str) -> None:
    # A single seed is an anecdote: these lessons' claims are about means over replicates.
    assert get_lesson(name).spec.repeats >= 3


def test_the_overfitting_lesson_compares_against_none() -> None:
    assert get_lesson("overfitting").spec.reference_name() == "none"


@pytest.mark.parametrize("name", STABLE)
def test_runs_that_differ_only_in_regularization_share_one_lockstep_group(name: str) -> None:
    runs = [(p.name, p.spec) for p in get_lesson(name).spec.members()]  # replicates too
    groups = plan([Member(i, n, s) for i, (n, s) in enumerate(runs)])
    # Only the optimizer kind or the architecture may split a lesson.
    kinds = {(s.optimizer.kind, s.model.activation, tuple(s.model.hidden)) for _, s in runs}
    assert len(groups) == len(kinds)


def test_an_unknown_lesson_names_the_valid_ones() -> None:
    with pytest.raises(LessonNotFound, match="overfitting, l1-vs-l2") as info:
        get_lesson("overfit")
    assert isinstance(info.value, KeyError)
    assert "no lesson named 'overfit'" in str(info.value)


def test_the_dropout_ensemble_lesson_thins_a_dropout_net_and_a_linear_one() -> None:
    runs = dict(get_lesson("dropout-ensemble").spec.runs())
    assert set(runs) == {"dropout", "linear"}
    assert all(spec.train.thinned_nets for spec in runs.values())
    assert runs["dropout"].regularization.dropout > 0 and runs["dropout"].model.hidden
    assert runs["linear"].model.hidden == [] and runs["linear"].regularization.input_dropout > 0
