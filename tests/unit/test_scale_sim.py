"""bench.scale_sim, the model behind docs/scale.md: it reads the template, loses no notice, and its
queue behaves as a queue does."""

import math
from dataclasses import replace
from itertools import pairwise

import pytest

from bench.scale_inputs import (
    SMS,
    Assumptions,
    Scenario,
    TemplateSettings,
    matched_concurrency,
    notices_for,
    rate_seconds,
    slot_email_rate,
    sweep_items_per_tick,
)
from bench.scale_model import allocate, simulate, simulate_detector
from emulator.template import load_template

SMALL = Assumptions(customers=20_000)
# The whole run in one minute, in the day: the queue builds up and nothing waits for quiet hours.
BURST = replace(SMALL, billing_window_s=60, billing_start_local_s=10 * 3600)


@pytest.fixture(scope="module")
def settings() -> TemplateSettings:
    return TemplateSettings.from_template()


def test_settings_come_from_the_template(settings: TemplateSettings) -> None:
    template = load_template()
    parameters, resources = template["Parameters"], template["Resources"]
    notices = resources["NoticeDeliveryFunction"]["Properties"]["Events"]["Notices"]["Properties"]
    bills = resources["BillIncreaseDetectorFunction"]["Properties"]["Events"]["BillsStream"]["Properties"]
    assert settings.delivery_batch_size == notices["BatchSize"]
    assert settings.bills_batch_size == bills["BatchSize"]
    assert settings.delivery_max_concurrency == parameters["DeliveryMaxConcurrency"]["Default"]
    assert settings.max_receive_count == parameters["NoticeMaxReceiveCount"]["Default"]
    assert settings.visibility_timeout_s == resources["NoticeQueue"]["Properties"]["VisibilityTimeout"]
    assert settings.sweep_interval_s == rate_seconds(parameters["SweepSchedule"]["Default"])


def test_every_notice_queued_is_sent_when_concurrency_matches_the_quota(settings: TemplateSettings) -> None:
    a = replace(SMALL, ses_rate=50.0)
    day = simulate(Scenario(a, matched_concurrency(a.ses_rate, a, settings)), settings)
    result = day.delivery

    assert sum(day.detector.processed) == day.detector.records_per_shard * day.detector.shards
    assert result.notices == sum(result.by_channel.values()) == notices_for(a)
    assert result.sent == result.by_channel
    assert result.throttled == result.dead_lettered == 0
    # The run starts at 02:00: every SMS was held for quiet hours, and every hold was released.
    assert result.held == result.released == result.by_channel[SMS] > 0
    assert result.release_ticks == math.ceil(result.held / sweep_items_per_tick(a, settings))


def test_a_refused_send_is_retried_or_dead_lettered_never_lost(settings: TemplateSettings) -> None:
    a = replace(BURST, ses_rate=14.0)
    result = simulate(Scenario(a, 20), settings).delivery

    assert result.throttled > 0
    assert sum(result.sent.values()) + result.dead_lettered == notices_for(a)
    assert max(result.sent.values()) > 0
    assert result.max_receives <= settings.max_receive_count


def test_queue_depth_is_never_negative_and_ends_empty(settings: TemplateSettings) -> None:
    a = replace(BURST, ses_rate=14.0)
    result = simulate(Scenario(a, 5), settings).delivery

    assert min(result.depth) >= 0
    assert result.depth[-1] == 0
    assert result.peak_depth >= max(result.depth) > 0


def test_time_to_drain_falls_as_maximum_concurrency_rises(settings: TemplateSettings) -> None:
    a = replace(BURST, ses_rate=1e6, sms_rate=1e6)  # only the consumers limit the rate
    drained = [simulate(Scenario(a, concurrency), settings).delivery.end for concurrency in (2, 4, 8, 16)]

    assert all(earlier > later for earlier, later in pairwise(drained))


@pytest.mark.parametrize("rate", [50.0, 200.0, 500.0])
def test_matched_concurrency_is_the_most_that_stays_within_the_rate(
    settings: TemplateSettings, rate: float
) -> None:
    concurrency = matched_concurrency(rate, SMALL, settings)
    per_invocation = slot_email_rate(SMALL, settings)

    assert concurrency * per_invocation <= rate < (concurrency + 1) * per_invocation


def test_below_the_least_maximum_concurrency_the_rate_cannot_be_matched(settings: TemplateSettings) -> None:
    concurrency = matched_concurrency(1.0, SMALL, settings)

    assert concurrency == 2  # the least MaximumConcurrency AWS accepts
    assert concurrency * slot_email_rate(SMALL, settings) > 1.0


def test_more_batches_per_shard_shorten_the_stream_lag(settings: TemplateSettings) -> None:
    a = replace(SMALL, customers=2_000_000)  # more bills per shard than one batch at a time can read
    one, two = (simulate_detector(a, settings, parallelization) for parallelization in (1, 2))

    assert one.arrival_per_shard > one.capacity_per_shard
    assert two.capacity_per_shard >= two.arrival_per_shard
    assert two.max_lag_s < one.max_lag_s
    assert two.finished_s < one.finished_s


@pytest.mark.parametrize(("total", "weights"), [(7, [1, 1, 1]), (300, [0, 5, 0, 2, 9]), (0, [3, 4])])
def test_allocation_hands_out_exactly_the_total(total: int, weights: list[int]) -> None:
    shares = allocate(total, weights)

    assert sum(shares) == total
    assert all(share >= 0 for share in shares)
    assert all(share == 0 for share, weight in zip(shares, weights, strict=True) if weight == 0)
