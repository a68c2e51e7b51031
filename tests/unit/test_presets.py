"""The lessons: stable names, valid specs, and the variants each lesson's claim needs."""

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


@pytest.mark.parametrize("name", STABLE)
def test_runs_that_differ_only_in_regularization_share_one_lockstep_group(name: str) -> None:
    runs = get_lesson(name).spec.runs()
    groups = plan([Member(i, n, s) for i, (n, s) in enumerate(runs)])
    # Only the optimizer kind or the architecture may split a lesson.
    kinds = {(s.optimizer.kind, s.model.activation) for _, s in runs}
    assert len(groups) == len(kinds)


def test_an_unknown_lesson_names_the_valid_ones() -> None:
    with pytest.raises(LessonNotFound, match="overfitting, l1-vs-l2") as info:
        get_lesson("overfit")
    assert isinstance(info.value, KeyError)
    assert "no lesson named 'overfit'" in str(info.value)
