"""ReadPacer: the client-side mirror of ARM's subscription-read bucket (no sleeps: a fake clock)."""

from __future__ import annotations

import asyncio

import pytest

from scanner.azure.pacing import REMAINING_READS, ReadPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_without_a_reported_count_nothing_waits() -> None:
    pacer = ReadPacer(clock=Clock())
    assert all(pacer.delay() == 0 for _ in range(1000))


def test_the_reported_count_is_spent_down_to_the_reserve_then_paced_at_the_refill_rate() -> None:
    clock = Clock()
    pacer = ReadPacer(refill_per_second=25, reserve=5, clock=clock)
    pacer.observe(200, {REMAINING_READS: "10"})
    assert [pacer.delay() for _ in range(5)] == [0, 0, 0, 0, 0]
    assert pacer.delay() == pytest.approx(1 / 25)  # 5 left = the reserve: wait for one token
    clock.now += 2.0  # 50 tokens refilled
    sent = 0
    while pacer.delay() == 0:
        sent += 1
    assert sent == 50


def test_a_lower_count_from_arm_wins_over_the_estimate() -> None:
    clock = Clock()
    pacer = ReadPacer(reserve=0, clock=clock)
    pacer.observe(200, {REMAINING_READS: "250"})
    pacer.observe(200, {REMAINING_READS: "3"})  # another client shares the bucket
    assert [pacer.delay() for _ in range(3)] == [0, 0, 0]
    assert pacer.delay() > 0
    pacer.observe(200, {REMAINING_READS: "200"})  # a higher (older) count never raises it
    assert pacer.delay() > 0


def test_a_429_holds_every_read_for_its_retry_after() -> None:
    clock = Clock()
    pacer = ReadPacer(reserve=0, clock=clock)
    pacer.observe(429, {REMAINING_READS: "0", "Retry-After": "3"})
    assert pacer.delay() == pytest.approx(3.0)
    clock.now += 1.0
    assert pacer.delay() == pytest.approx(2.0)
    clock.now += 2.0  # ARM refilled the bucket meanwhile (3 s x 25)
    sent = 0
    while pacer.delay() == 0:
        sent += 1
    assert sent == 75 and pacer.throttled == 1


def test_acquire_releases_requests_as_tokens_refill() -> None:
    pacer = ReadPacer(refill_per_second=1000, reserve=0)
    pacer.observe(200, {REMAINING_READS: "2"})

    async def run() -> None:
        await asyncio.wait_for(asyncio.gather(*(pacer.acquire() for _ in range(20))), timeout=10)

    asyncio.run(run())
    assert pacer.waits > 0


def test_a_bucket_smaller_than_documented_is_learned_from_the_first_429() -> None:
    """``--arm-throttle 40/25``: ARM reports 39 left after the first read. Until a 429 the mirror
    may believe the documented 250 (another client could be draining a big bucket); after one,
    a long pause refills it only to what ARM showed it holds, not to 250."""
    clock = Clock()
    pacer = ReadPacer(refill_per_second=25, reserve=5, clock=clock)
    pacer.observe(200, {REMAINING_READS: "39"})
    pacer.observe(200, {REMAINING_READS: "20"})
    pacer.observe(429, {REMAINING_READS: "0", "Retry-After": "1"})
    assert pacer.ceiling == 40
    clock.now += 60.0  # idle far beyond what refills 250 tokens
    sent = 0
    while pacer.delay() == 0:
        sent += 1
    assert sent == 40 - 5  # the bucket, less the reserve: no burst of 245 that ARM would refuse
    # a higher count reported later (a bigger bucket after all) raises the ceiling again
    pacer.observe(200, {REMAINING_READS: "120"})
    assert pacer.ceiling == 120


def test_a_429_without_a_count_before_it_keeps_the_documented_ceiling() -> None:
    pacer = ReadPacer(clock=Clock())
    pacer.observe(429, {REMAINING_READS: "0", "Retry-After": "1"})
    assert pacer.ceiling == 250
