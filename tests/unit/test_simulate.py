"""The simulated day: conservation, hand-computed waits, the real rules' choices, the advisor's promise."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.queue import calling, eta
from queue_server.simulate.advisor import Scenario, advise, evaluate
from queue_server.simulate.arrivals import Citizen, draw_day
from queue_server.simulate.cli import rules_of
from queue_server.simulate.engine import Day, Rules
from queue_server.simulate.profile import ProfileError, WindowPlan, load_profile
from queue_server.simulate.report import waits
from tests.strategies import BASE, ranks, tickets

CITY = Path(__file__).resolve().parents[2] / "assets" / "profiles" / "city_hall.yaml"

SMALL = """
source: test hall
hall: {name: 测试大厅, opens: "09:00", closes: "12:00", recall_limit: 2, requeue_places: 2}
visitors: {no_show_share: 0.1, late_share: 0.1, return_share: 0.5, return_after_min: [5, 20]}
shapes:
  flat: {9: 1, 10: 1, 11: 1}
bundles:
  real-estate: {daily: 70, shape: flat, service: {mean_min: 8, cv: 0.6}, appointment_share: 0.1}
  social-security-card: {daily: 110, shape: flat, service: {mean_min: 4, cv: 0.5}, priority_share: 0.2}
  newborn: {daily: 20, by_hour: {9: 3, 10: 1}, service: {mean_min: 12, cv: 0.4}}
windows:
  - {count: 3, name: 不动产, bundles: [{code: real-estate, rank: 1}]}
  - {count: 3, name: 社保, bundles: [{code: social-security-card, rank: 1}, {code: newborn, rank: 2}]}
  - {count: 2, name: 出生, bundles: [{code: newborn, rank: 1}]}
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "hall.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def one_window(**rules: float) -> tuple[tuple[WindowPlan, ...], Rules]:
    plan = (WindowPlan(1, "一号", {"real-estate": 1}),)
    return plan, Rules(closes_min=10_000, walk_min=0, expected_min={"real-estate": 10}, **rules)


def test_every_arrival_is_served_or_a_no_show() -> None:
    profile = load_profile(CITY)
    citizens = draw_day(profile, seed=7)
    result = Day(profile.allocation, rules_of(profile)).run(citizens, profile.opens_min)

    assert len(result.outcomes) == len(citizens) > 7000
    assert all(o.served != o.no_show for o in result.outcomes)
    assert sum(o.served for o in result.outcomes) + sum(o.no_show for o in result.outcomes) == len(citizens)
    assert sum(s.served for s in result.windows) == sum(o.served for o in result.outcomes)
    # a citizen who comes is served; one who never comes and never returns is a no-show
    assert all(o.served for o in result.outcomes if not o.citizen.absent)
    assert all(o.no_show for o in result.outcomes if o.citizen.absent and o.citizen.returns_after is None)


def test_one_window_fixed_times_gives_the_hand_computed_waits() -> None:
    plan, rules = one_window()
    citizens = [Citizen(id=i + 1, bundle="real-estate", arrive=540 + i, service=10) for i in range(3)]
    result = Day(plan, rules).run(citizens, 540)

    # arrivals at 0, 1, 2 min; 10 min each: called at 0, 10, 20
    assert waits(result.outcomes) == [0, 9, 18]
    assert result.end_min == 570
    assert result.windows[0].busy_min == 30


def test_a_no_show_holds_the_window_for_the_recalls() -> None:
    plan, rules = one_window(recall_limit=3, recall_interval_min=1.0)
    citizens = [Citizen(1, "real-estate", 540, 10, absent=True),
                Citizen(2, "real-estate", 540.5, 10)]
    result = Day(plan, rules).run(citizens, 540)

    # called at 0, recalled 3 times a minute apart, marked 过号 at 4: the next is called then
    assert [o.first_call for o in result.outcomes] == [540, 544]
    assert [(o.served, o.no_show) for o in result.outcomes] == [(False, True), (True, False)]


def test_a_returning_no_show_goes_back_behind_the_head_and_is_served() -> None:
    plan, rules = one_window(recall_limit=0, recall_interval_min=1.0, requeue_places=1)
    citizens = [Citizen(1, "real-estate", 540, 10, absent=True, returns_after=0.5),
                *(Citizen(i, "real-estate", 540 + i / 10, 10) for i in (2, 3, 4))]
    result = Day(plan, rules).run(citizens, 540)

    # 1 is called at 540 and marked 过号 at 541 (no recalls); 2 is called at 541; 1 is back at
    # 541.5 and goes one place behind the head (3): 3 at 551, 1 at 561, then 4 at 571
    assert [o.first_call for o in result.outcomes] == [540, 541, 551, 571]
    assert result.outcomes[0].served and not result.outcomes[0].no_show
    assert result.end_min == 581


def test_quotes_come_from_the_server_estimate() -> None:
    plan, rules = one_window()
    citizens = [Citizen(1, "real-estate", 540, 10), Citizen(2, "real-estate", 541, 10),
                Citizen(3, "real-estate", 542, 10)]
    result = Day(plan, rules).run(citizens, 540)

    # first: an idle window, 0; then with the prior of 10 min and one window: ceil((ahead + .5) * 10)
    assert [o.quoted_min for o in result.outcomes] == [
        0, eta.wait_minutes(0, 10, 1.0), eta.wait_minutes(1, 10, 1.0)]
    assert [o.quoted_min for o in result.outcomes] == [0, 5, 15]


@given(tickets(max_size=40), ranks, st.integers(min_value=0, max_value=600))
def test_choose_next_on_line_heads_equals_choose_next_on_everything(line, window_ranks, minute) -> None:
    now = BASE + timedelta(minutes=minute)
    waiting = [t for t in line if t.for_window is None]  # the simulated hall transfers nothing
    heads = {}
    for t in sorted(waiting, key=lambda t: calling.line_order(t, now)):
        heads.setdefault(t.bundle, t)
    assert (calling.choose_next(list(heads.values()), 1, window_ranks, now)
            == calling.choose_next(waiting, 1, window_ranks, now))


def test_the_advice_never_makes_the_p90_worse_on_the_same_days(small: Path) -> None:
    profile = load_profile(small)
    scenario = Scenario(rules_of(profile), [draw_day(profile, s) for s in (1, 2)], profile.opens_min)
    advice = advise(profile.allocation, scenario, budget_s=20, max_moves=5)

    assert advice.moves  # the small hall's real-estate line is short of windows: real moves are tested
    today, proposed = evaluate(advice.today, scenario), evaluate(advice.proposed, scenario)
    assert proposed.hall_p90 <= today.hall_p90
    assert proposed.objective <= today.objective
    assert advice.today == profile.allocation
    assert (advice.proposed != advice.today) == bool(advice.moves)
    assert proposed.hall_p90 == pytest.approx(advice.proposed_eval.hall_p90)


def test_the_same_seed_draws_the_same_day(small: Path) -> None:
    profile = load_profile(small)
    assert draw_day(profile, 3) == draw_day(profile, 3)
    assert draw_day(profile, 3) != draw_day(profile, 4)
    day = draw_day(profile, 3)
    assert all(profile.opens_min <= c.arrive < profile.closes_min for c in day)
    assert [c.arrive for c in day] == sorted(c.arrive for c in day)
    mean = sum(c.service for c in day if c.bundle == "real-estate") / sum(
        c.bundle == "real-estate" for c in day)
    assert math.isclose(mean, 8, rel_tol=0.25)


def test_the_shipped_city_hall_profile() -> None:
    profile = load_profile(CITY)
    assert len(profile.allocation) == 150
    assert 7500 <= sum(sum(h.values()) for h in profile.hourly.values()) <= 8500
    hall = {h: sum(b.get(h, 0) for b in profile.hourly.values()) for h in range(8, 18)}
    assert hall[10] > hall[12] < hall[15]  # morning peak, lunch dip, afternoon peak


@pytest.mark.parametrize(("change", "field"), [
    (("mean_min: 8", "mean_min: 0"), "bundles.real-estate.service.mean_min"),
    (("real-estate: {daily", "no-such-bundle: {daily"), "bundles.no-such-bundle"),
    (("shape: flat, service: {mean_min: 4", "shape: lumpy, service: {mean_min: 4"),
     "bundles.social-security-card.shape"),
    (('closes: "12:00"', 'closes: "08:00"'), "hall.closes"),
    (("{code: newborn, rank: 1}", "{code: newborn, rank: 0}"), "windows.2.bundles.0.rank"),
    (("{9: 3, 10: 1}", "{9: 3, 13: 1}"), "bundles.newborn.by_hour.13"),
    (("no_show_share: 0.1", "no_show_share: 1.5"), "visitors.no_show_share"),
])
def test_a_bad_profile_names_the_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    path = tmp_path / "bad.yaml"
    assert change[0] in SMALL
    path.write_text(SMALL.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ProfileError, match=field.replace(".", r"\.")):
        load_profile(path)
