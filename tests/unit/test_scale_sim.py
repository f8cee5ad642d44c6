"""bench.scale_sim, the model behind docs/scale.md: it reads the template, loses no notice, paces
email to the SES account's rate, never dead-letters a throttled or deferred send, and its queue
behaves as a queue does."""

import math
from dataclasses import replace
from itertools import pairwise

import pytest

from bench.scale_delivery import allocate
from bench.scale_inputs import (
    DAY,
    EMAIL,
    MAX_DELAY_S,
    QUOTA_SHARES,
    SMS,
    Assumptions,
    Scenario,
    TemplateSettings,
    bulk_rate,
    notices_for,
    rate_seconds,
    sweep_items_per_tick,
)
from bench.scale_model import simulate, simulate_detector
from bench.scale_sim import done_when, over_ideal, run_size
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
    assert settings.bills_parallelization == bills.get("ParallelizationFactor", 1)
    assert settings.delivery_max_concurrency == parameters["DeliveryMaxConcurrency"]["Default"]
    assert settings.due_index_shards == parameters["DueIndexShards"]["Default"]
    assert settings.max_receive_count == parameters["NoticeMaxReceiveCount"]["Default"]
    assert settings.visibility_timeout_s == resources["NoticeQueue"]["Properties"]["VisibilityTimeout"]
    assert settings.sweep_interval_s == rate_seconds(parameters["SweepSchedule"]["Default"])


def test_with_the_defaults_every_notice_is_sent_and_none_dead_lettered(settings: TemplateSettings) -> None:
    # Given a billing run at 02:00 on a 14/s account, the template's parameters
    a = replace(SMALL, ses_rate=14.0)

    # When
    day = simulate(Scenario(a), settings)

    # Then
    result = day.delivery
    assert sum(day.detector.processed) == day.detector.records_per_shard * day.detector.shards
    assert result.notices == sum(result.by_channel.values()) == notices_for(a)
    assert result.sent == result.by_channel
    assert result.dead_lettered == 0
    assert result.max_receives == 1  # re-queues are new messages: nothing is received twice
    # Every SMS was held for quiet hours, and every hold was released.
    assert result.held == result.released == result.by_channel[SMS] > 0
    assert result.release_ticks == math.ceil(result.held / sweep_items_per_tick(a, settings))


@pytest.mark.parametrize("rate", [1.0, 14.0, 50.0, 200.0])
def test_the_pace_never_exceeds_the_account_rate_in_any_second(
    settings: TemplateSettings, rate: float
) -> None:
    # Given more emails in a minute than the account can send in it
    a = replace(BURST, customers=max(20_000, round(rate * 1000)), ses_rate=rate)

    # When
    result = simulate(Scenario(a), settings).delivery

    # Then the bulk lane's slots and the sends stay within R, and the pace is actually used
    assert result.peak_slots_per_s <= rate
    assert result.peak_email_per_s <= rate
    assert result.peak_slots_per_s >= math.floor(bulk_rate(a))
    assert result.throttled[EMAIL] == 0


@pytest.mark.parametrize("rate", [14.0, 50.0])
def test_the_last_email_goes_within_ten_percent_of_the_ideal(settings: TemplateSettings, rate: float) -> None:
    day = simulate(Scenario(replace(BURST, ses_rate=rate)), settings)

    # The bulk lane has 95 % of R, so 1/0.95 - 1 = 5.3 % is the least it can be.
    assert 0.05 < over_ideal(day) <= 0.10


def test_throttled_sends_are_deferred_never_dead_lettered(settings: TemplateSettings) -> None:
    # Given other mail on the account that pacing does not know of, and a 3/s toll-free SMS number
    a = replace(BURST, ses_rate=14.0, ses_other_send_rate=5.0, sms_rate=3.0)

    # When
    result = simulate(Scenario(a), settings).delivery

    # Then both providers refuse sends, and every refused notice is still sent later
    assert result.throttled[EMAIL] > 0
    assert result.throttled[SMS] > 0
    assert result.dead_lettered == 0
    assert result.sent == result.by_channel
    assert result.max_receives == 1


def test_the_code_before_issue_18_dead_lettered_throttled_sends(settings: TemplateSettings) -> None:
    # Given the old default concurrency, no pacing, throttles counted toward maxReceiveCount, and
    # 48,000 emails in a minute on a 14/s account
    a = replace(BURST, customers=200_000, ses_rate=14.0)

    # When
    result = simulate(Scenario(a, concurrency=5, paced=False), settings).delivery

    # Then
    assert result.dead_lettered > 0
    assert sum(result.sent.values()) + result.dead_lettered == notices_for(a)
    assert result.max_receives == settings.max_receive_count


def test_a_slot_further_than_sqs_delay_is_requeued_again_without_a_new_reservation(
    settings: TemplateSettings,
) -> None:
    # Given 1,200 emails on a sandbox account (1/s): the last slots are more than 20 minutes away
    a = replace(BURST, customers=5_000, ses_rate=1.0)

    # When
    result = simulate(Scenario(a), settings).delivery

    # Then some messages go back to the queue more than once; each pass is a new SQS message, so
    # no message stays in the queue much beyond SQS's 900 s delay
    emails = result.by_channel[EMAIL]
    assert result.requeues > emails
    assert result.reservations <= math.ceil(emails / settings.delivery_batch_size) + 60  # once per batch
    assert result.max_age_s <= MAX_DELAY_S + 60
    assert result.sent == result.by_channel
    assert result.dead_lettered == 0


def test_a_binding_daily_quota_holds_notices_for_the_following_days(settings: TemplateSettings) -> None:
    # Given 4,800 emails and a 2,000-a-day quota (bills may use 90 % of it)
    a = replace(BURST, ses_rate=14.0, ses_daily_quota=2_000)

    # When
    result = simulate(Scenario(a), settings).delivery

    # Then
    assert result.quota_holds > 0
    assert result.quota_released == result.quota_holds
    assert result.peak_window_sent <= math.floor(2_000 * QUOTA_SHARES["bill"])
    assert result.last_sent[EMAIL] > 2 * DAY
    assert result.sent == result.by_channel
    assert result.dead_lettered == 0


def test_the_parallel_release_is_faster_than_one_worker(settings: TemplateSettings) -> None:
    # Given 30,000 notices held at 08:00 (email held too), released by one worker per DueIndex shard
    a = replace(SMALL, customers=100_000, billing_window_s=600, ses_rate=1000.0)
    one_worker = replace(settings, due_index_shards=1)

    # When
    parallel, single = (
        simulate(Scenario(a, quiet_for_email=True), s).delivery for s in (settings, one_worker)
    )

    # Then
    assert settings.due_index_shards > 1
    assert sweep_items_per_tick(a, settings) == pytest.approx(
        settings.due_index_shards * sweep_items_per_tick(a, one_worker), abs=settings.due_index_shards
    )
    assert parallel.released == single.released == notices_for(a)
    assert parallel.release_ticks < single.release_ticks
    assert parallel.release_done < single.release_done


def test_queue_depth_is_never_negative_and_ends_empty(settings: TemplateSettings) -> None:
    a = replace(BURST, ses_rate=14.0)
    result = simulate(Scenario(a), settings).delivery

    assert min(result.depth) >= 0
    assert result.depth[-1] == 0
    assert result.peak_depth >= max(result.depth) > 0


def test_time_to_drain_falls_as_maximum_concurrency_rises(settings: TemplateSettings) -> None:
    a = replace(BURST, ses_rate=1e6, sms_rate=1e6)  # only the consumers limit the rate
    drained = [simulate(Scenario(a, concurrency), settings).delivery.end for concurrency in (2, 4, 8, 16)]

    assert all(earlier > later for earlier, later in pairwise(drained))


def test_more_batches_per_shard_shorten_the_stream_lag(settings: TemplateSettings) -> None:
    a = replace(SMALL, customers=2_000_000, stream_shards=4)  # more bills per shard than one batch reads
    one, two = (simulate_detector(a, settings, parallelization) for parallelization in (1, 2))

    assert one.arrival_per_shard > one.capacity_per_shard
    assert two.capacity_per_shard >= two.arrival_per_shard
    assert two.max_lag_s < one.max_lag_s
    assert two.finished_s < one.finished_s


def test_the_done_when_checks_pass_with_the_defaults_and_fail_without_enough_concurrency(
    settings: TemplateSettings,
) -> None:
    # Given a scaled-down billing day: 20,000 customers in one minute from 02:00, SMS held until 08:00
    base = replace(SMALL, billing_window_s=60)

    # When
    defaults = done_when([run_size(base, settings)], settings)
    starved = done_when([run_size(base, replace(settings, delivery_max_concurrency=2))], settings)

    # Then
    assert all(passed is not False for *_, passed in defaults)
    failed = [name for name, _, _, passed in starved if passed is False]
    assert any(name.startswith("last email vs ideal") for name in failed)


@pytest.mark.parametrize(("total", "weights"), [(7, [1, 1, 1]), (300, [0, 5, 0, 2, 9]), (0, [3, 4])])
def test_allocation_hands_out_exactly_the_total(total: int, weights: list[int]) -> None:
    shares = allocate(total, weights)

    assert sum(shares) == total
    assert all(share >= 0 for share in shares)
    assert all(share == 0 for share, weight in zip(shares, weights, strict=True) if weight == 0)
