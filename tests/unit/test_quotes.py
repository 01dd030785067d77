"""Wait quotes: ranges from the hall's recent quote errors, widened or withheld as calibration falls."""

from __future__ import annotations

import random

from queue_server.services.quotes import MIN_SAMPLES, calibrate


def test_few_calls_give_a_wide_default_range():
    c = calibrate([(10.0, 8, None)] * (MIN_SAMPLES - 1))
    assert c.mode == "calibrating"
    assert c.range_for(20) == (20, 35) and c.range_for(0) == (0, 5) and c.range_for(13) == (10, 25)
    assert c.range_for(None) is None  # no window open: nothing to quote


def test_the_range_is_the_expected_wait_plus_the_median_and_90th_percentile_error():
    # quotes that ran 0..9 minutes short, evenly: median error 4, 90th percentile 8
    calls = [(10.0 + e, 10, None) for e in range(10)] * 5
    c = calibrate(calls)
    assert (c.mode, c.samples, c.median_error_min) == ("range", 50, 4.5)
    assert c.range_for(20) == (20, 30)  # 24–28, said in whole five minutes
    assert c.range_for(0) == (4, 8)  # short ones as they are


def test_a_range_that_held_stays_one_that_did_not_is_widened_then_withheld():
    rng = random.Random(7)
    errors = [rng.uniform(-5, 15) for _ in range(200)]
    held = calibrate([(20 + e, 20, 40) for e in errors])  # every call came by the end of its range
    assert held.mode == "range" and held.within_share == 1.0
    fair = calibrate([(20 + e, 20, 20 + 8) for e in errors])  # about 65 % by the end
    assert fair.mode == "widened" and 0.6 <= fair.within_share < 0.8
    assert fair.high_shift > held.high_shift  # the end moves out to the 97th percentile
    poor = calibrate([(20 + e, 20, 20) for e in errors])  # about a third by the end
    assert poor.mode == "withheld" and poor.within_share < 0.6
    assert poor.range_for(20) is None
