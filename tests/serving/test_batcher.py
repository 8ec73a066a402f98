import asyncio
import threading
import time

import pytest

from serving.batcher import MicroBatcher, Overloaded


class GatedScorer:
    """Scores x -> x * 10, recording each batch; holds the first batch until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.gate.wait(5)
        return [x * 10 for x in items]


def test_each_caller_gets_its_own_results_in_order_and_waiting_requests_merge():
    scorer = GatedScorer()

    async def main():
        batcher = MicroBatcher([scorer], max_batch_size=64)
        first = asyncio.ensure_future(batcher.submit([0]))
        await asyncio.sleep(0.05)  # the first batch is now blocked in the scorer; the rest queue up
        rest = [asyncio.ensure_future(batcher.submit([i, i + 100, i + 200])) for i in range(1, 11)]
        await asyncio.sleep(0.05)
        scorer.gate.set()
        return await first, await asyncio.gather(*rest), batcher.stats

    first, rest, stats = asyncio.run(main())
    assert first == [0]
    assert rest == [[i * 10, (i + 100) * 10, (i + 200) * 10] for i in range(1, 11)]
    assert [len(b) for b in scorer.batches] == [1, 30]
    assert stats.batches == 2 and stats.items == 31 and stats.largest == 30


def test_batches_never_pass_the_size_limit_unless_one_request_is_larger():
    scorer = GatedScorer()
    scorer.gate.set()

    async def main():
        batcher = MicroBatcher([scorer], max_batch_size=4)
        return await asyncio.gather(*(batcher.submit([i, i]) for i in range(6)), batcher.submit(list(range(7))))

    results = asyncio.run(main())
    assert results[:6] == [[i * 10, i * 10] for i in range(6)]
    assert results[6] == [i * 10 for i in range(7)]
    assert all(len(b) <= 4 for b in scorer.batches if len(b) != 7)
    assert sorted(x for b in scorer.batches for x in b) == sorted(
        [i for i in range(6) for _ in (0, 1)] + list(range(7))
    )


def test_two_scorers_score_two_batches_at_once():
    started = threading.Barrier(2, timeout=5)

    def scorer(items: list[int]) -> list[int]:
        started.wait()  # both scorers must be inside a batch together, or this times out
        return items

    async def main():
        batcher = MicroBatcher([scorer, scorer], max_batch_size=1)
        return await asyncio.gather(batcher.submit([1]), batcher.submit([2]))

    assert asyncio.run(main()) == [[1], [2]]


def test_a_full_queue_refuses_new_work_and_recovers():
    scorer = GatedScorer()

    async def main():
        batcher = MicroBatcher([scorer], max_batch_size=1, max_queue_ms=150)
        batcher.stats.recent_seconds, batcher.stats.recent_items = 1.0, 10.0  # 100 ms a pair
        running = asyncio.ensure_future(batcher.submit([0]))
        await asyncio.sleep(0.05)  # [0] is in the scorer; what follows waits in the queue
        queued = [asyncio.ensure_future(batcher.submit([i])) for i in (1, 2, 3)]
        await asyncio.sleep(0.05)
        assert [q.done() for q in queued] == [False, False, True]  # 0, 100 and 200 ms queued ahead: the third is over
        with pytest.raises(Overloaded, match="queue wait 200 ms is over the budget of 150 ms"):
            await queued[2]
        scorer.gate.set()
        await asyncio.gather(running, *queued[:2])
        return await batcher.submit([7])

    assert asyncio.run(main()) == [70]


def test_a_failing_batch_fails_its_callers_and_the_batcher_goes_on():
    calls = []

    def flaky(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("model failed")
        return items

    async def main():
        batcher = MicroBatcher([flaky])
        with pytest.raises(RuntimeError, match="model failed"):
            await batcher.submit([1])
        return await batcher.submit([2]), await batcher.submit([])

    assert asyncio.run(main()) == ([2], [])


def test_batch_wait_lets_a_lone_request_collect_company():
    scorer = GatedScorer()
    scorer.gate.set()

    async def main():
        batcher = MicroBatcher([scorer], max_batch_size=8, batch_wait_ms=200)
        first = asyncio.ensure_future(batcher.submit([1]))
        await asyncio.sleep(0.02)
        return await asyncio.gather(first, batcher.submit([2]))

    assert asyncio.run(main()) == [[10], [20]]
    assert scorer.batches == [[1, 2]]


def test_requests_that_overflow_a_batch_are_never_lost_with_two_scorers():
    """Both scorers idle, four requests arrive at once and two of them do not fit: all four are answered."""

    async def main():
        batcher = MicroBatcher([lambda items: items, lambda items: items], max_batch_size=4)
        assert await batcher.submit([0]) == [0]  # both scorers now wait for work
        requests = [batcher.submit([1] * 3), batcher.submit([2] * 2), batcher.submit([3] * 3), batcher.submit([4] * 2)]
        results = await asyncio.wait_for(asyncio.gather(*requests), 5)
        return results, batcher

    results, batcher = asyncio.run(main())
    assert results == [[1] * 3, [2] * 2, [3] * 3, [4] * 2]
    assert batcher._queued_items == 0 and not batcher._pending


def test_a_caller_that_went_away_is_not_scored():
    scorer = GatedScorer()

    async def main():
        batcher = MicroBatcher([scorer], max_batch_size=8)
        first = asyncio.ensure_future(batcher.submit([1]))
        await asyncio.sleep(0.05)  # [1] is in the scorer
        gone = asyncio.ensure_future(batcher.submit([2]))
        kept = asyncio.ensure_future(batcher.submit([3]))
        await asyncio.sleep(0.01)
        gone.cancel()
        scorer.gate.set()
        return await first, await kept, batcher

    first, kept, batcher = asyncio.run(main())
    assert (first, kept) == ([10], [30])
    assert scorer.batches == [[1], [3]]
    assert batcher._queued_items == 0


def test_bulk_work_goes_in_small_batches_behind_single_predictions_and_never_merges_with_them():
    scorer = GatedScorer()

    async def main():
        batcher = MicroBatcher([scorer], max_batch_size=64, bulk_batch_size=3)
        first = asyncio.ensure_future(batcher.submit([0]))
        await asyncio.sleep(0.05)  # the model is busy: everything below queues
        bulk = asyncio.ensure_future(batcher.submit_bulk(list(range(100, 108))))
        await asyncio.sleep(0.01)
        singles = [asyncio.ensure_future(batcher.submit([i])) for i in (1, 2)]
        await asyncio.sleep(0.05)
        scorer.gate.set()
        return await first, await bulk, await asyncio.gather(*singles), batcher

    first, bulk, singles, batcher = asyncio.run(main())
    assert bulk == [x * 10 for x in range(100, 108)]
    assert singles == [[10], [20]] and first == [0]
    # the singles queued after the bulk call still go first, merged; the bulk items follow, 3 at a time, alone
    assert scorer.batches == [[0], [1, 2], [100, 101, 102], [103, 104, 105], [106, 107]]
    assert batcher.bulk_stats.items == 8 and batcher.stats.items == 3


class PacedScorer:
    """Scores x -> x * 10, taking `seconds` per item, recording each batch."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.batches: list[list[int]] = []

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        time.sleep(self.seconds * len(items))
        return [x * 10 for x in items]


def test_a_bulk_call_past_its_queue_budget_is_refused_whole_while_single_predictions_go_on():
    async def main():
        batcher = MicroBatcher([PacedScorer(0.01)], max_batch_size=8, bulk_batch_size=2, max_bulk_queue_ms=100)
        await batcher.submit([1])  # the batcher learns the pace: about 10 ms an item
        with pytest.raises(Overloaded, match=r"bulk queue wait \d+ ms is over the budget of 100 ms"):
            await batcher.submit_bulk(list(range(20)))  # 200 ms of its own
        return await batcher.submit_bulk([3, 4, 5]), await batcher.submit([6])

    assert asyncio.run(main()) == ([30, 40, 50], [60])


def test_a_steady_stream_of_single_predictions_never_starves_a_bulk_call():
    scorer = PacedScorer(0.002)

    async def main():
        # No admission limit: the test is about starvation, and a loaded machine must not make it refuse singles.
        batcher = MicroBatcher([scorer], max_batch_size=4, bulk_batch_size=2, max_bulk_delay_ms=30, max_queue_ms=1e9)
        singles = []

        async def stream() -> None:  # open loop: a new single prediction every 1 ms, more than the model keeps up with
            for i in range(1500):
                singles.append(asyncio.ensure_future(batcher.submit([i])))
                await asyncio.sleep(0.001)

        streaming = asyncio.ensure_future(stream())
        await asyncio.sleep(0.05)
        bulk = await batcher.submit_bulk(list(range(-8, 0)))
        still_streaming = not streaming.done()
        await streaming
        await asyncio.gather(*singles)
        return bulk, still_streaming

    bulk, still_streaming = asyncio.run(main())
    assert bulk == [x * 10 for x in range(-8, 0)]
    assert still_streaming  # it finished while single predictions kept arriving
    assert [b for b in scorer.batches if b[0] < 0] == [[-8, -7], [-6, -5], [-4, -3], [-2, -1]]


def test_a_cancelled_bulk_call_leaves_the_queue_at_once():
    scorer = GatedScorer()

    async def main():
        batcher = MicroBatcher([scorer], max_batch_size=8, bulk_batch_size=2)
        first = asyncio.ensure_future(batcher.submit([0]))
        await asyncio.sleep(0.05)  # the model is busy
        bulk = asyncio.ensure_future(batcher.submit_bulk(list(range(100, 110))))
        await asyncio.sleep(0.01)
        queued = len(batcher._bulk)
        bulk.cancel()
        await asyncio.sleep(0.01)
        left = len(batcher._bulk)
        scorer.gate.set()
        await first
        return queued, left, await batcher.submit([7])

    queued, left, after = asyncio.run(main())
    assert (queued, left, after) == (5, 0, [70])
    assert not any(x >= 100 for batch in scorer.batches for x in batch)


def test_a_cancelled_single_prediction_leaves_the_queue_and_its_gauge_at_once():
    scorer = GatedScorer()
    seen: list[tuple[int, int]] = []

    async def main():
        batcher = MicroBatcher([scorer], max_batch_size=8, on_queue_change=lambda *counts: seen.append(counts))
        first = asyncio.ensure_future(batcher.submit([1]))
        await asyncio.sleep(0.05)  # the model is busy
        gone = asyncio.ensure_future(batcher.submit([2, 3]))
        await asyncio.sleep(0.01)
        queued = batcher._queued_items
        gone.cancel()
        await asyncio.sleep(0.01)
        left = (batcher._queued_items, len(batcher._pending))
        scorer.gate.set()
        await first
        return queued, left

    queued, left = asyncio.run(main())
    assert (queued, left) == (2, (0, 0))
    assert (2, 0) in seen and seen[-1] == (0, 0)
    assert scorer.batches == [[1]]


def test_a_failing_request_fails_only_its_own_caller_in_a_merged_batch():
    scorer = GatedScorer()

    def picky(items: list[int]) -> list[int]:
        if -1 in items:
            raise ValueError("cannot score -1")
        return scorer(items)

    async def main():
        batcher = MicroBatcher([picky], max_batch_size=8)
        first = asyncio.ensure_future(batcher.submit([1]))
        await asyncio.sleep(0.05)  # [1] holds the model while the next three queue and merge
        merged = [asyncio.ensure_future(batcher.submit(items)) for items in ([2], [-1, 3], [4])]
        await asyncio.sleep(0.01)
        scorer.gate.set()
        outcomes = await asyncio.gather(first, *merged, return_exceptions=True)
        return outcomes

    first, good, bad, other = asyncio.run(main())
    assert (first, good, other) == ([10], [20], [40])
    assert isinstance(bad, ValueError) and str(bad) == "cannot score -1"


def test_a_bulk_call_is_admitted_by_the_scorers_single_predictions_leave_it():
    """Idle, the model takes 2 ms an item: 200 items fit a 1 s budget. Under a stream of single predictions that
    keeps the scorer busy, bulk work gets its guaranteed batch per 100 ms (20 items a second): refused up front."""

    async def main():
        batcher = MicroBatcher(
            [PacedScorer(0.002)], max_batch_size=4, bulk_batch_size=2, max_bulk_queue_ms=1000, max_bulk_delay_ms=100
        )
        batcher._record(batcher.stats, 1, 0.002)
        idle_wait = batcher.estimated_bulk_wait(200)
        batcher.single_load.add(batcher.single_load.horizon)  # a horizon's worth of model time: one scorer kept busy
        busy_wait = batcher.estimated_bulk_wait(200)
        with pytest.raises(Overloaded, match="bulk queue wait"):
            await batcher.submit_bulk(list(range(200)))
        return idle_wait, busy_wait

    idle_wait, busy_wait = asyncio.run(main())
    assert idle_wait == pytest.approx(0.4)
    assert busy_wait == pytest.approx(10.0, rel=0.01)


def test_while_single_predictions_come_bulk_work_leaves_a_scorer_to_them():
    holding: list[int] = []
    batcher: MicroBatcher | None = None

    def score(items: list[int]) -> list[int]:
        holding.append(batcher._bulk_running)
        time.sleep(0.02)
        return [x * 10 for x in items]

    async def main(single_traffic: bool):
        nonlocal batcher
        holding.clear()
        batcher = MicroBatcher([score, score], max_batch_size=4, bulk_batch_size=1)
        if single_traffic:
            batcher.single_load.add(1.0)  # half a scorer's time over the last ~2 s
        return await batcher.submit_bulk(list(range(8)))

    assert asyncio.run(main(single_traffic=True)) == [x * 10 for x in range(8)]
    assert max(holding) == 1  # the other scorer stayed free for single predictions
    asyncio.run(main(single_traffic=False))
    assert max(holding) == 2  # with none coming, bulk work takes both
