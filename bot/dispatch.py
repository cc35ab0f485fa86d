"""Plan -> provider calls -> one Outcome per recipient.

The dispatcher owns what is shared between sends: each account's rate limiter and concurrency
bound, batching where an API takes many recipients, and the retry policy. It retries only what
certainly did not go out (429, connect failures); anything that may have gone out becomes
``unknown`` and is never retried on its own, so nobody is messaged twice. Every attempt is
recorded *before* it is made, and every outcome before it is yielded, so nothing is lost.
Those writes are batch-shaped (``bot.dispatch_batch``): a call's attempt is written the moment
its slot is free, in its own task (calls waiting together share a write), and outcomes coming
back together share one outcome write.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from bot import metrics
from bot.accounts import Account
from bot.dispatch_batch import AttemptClaims, NullRecorder, OutcomeBuffer, Recorder
from bot.values import Plan
from providers.base import (
    AmbiguousError,
    Outcome,
    OutcomeStatus,
    ProviderError,
    RateLimited,
    Recipient,
    RetryableError,
)

log = logging.getLogger(__name__)


class DispatchStopped(Exception):
    """The dispatcher stopped taking new batches (shutdown); the rest stay pending for restart."""


class AdapterFailed(AmbiguousError):
    """An adapter raised something other than a ProviderError (a bug) after the attempt was
    recorded: the request may have gone out, so its recipients are unknown, never in flight."""


_WORKER_DONE = object()
_OUTCOMES_DONE = object()


@dataclass(frozen=True)
class RetryPolicy:
    """When a failure that certainly did not send is tried again. Tests set delays to zero."""

    max_attempts: int = 4  # connect failures
    max_rate_limited_attempts: int = 8  # 429s: the account pauses for Retry-After in between
    base_delay: float = 0.5
    max_delay: float = 10.0
    default_retry_after: float = 5.0  # a 429 without Retry-After
    max_retry_after: float = 300.0  # a longer pause is reported as a failure, not waited out


@dataclass
class Dispatcher:
    """Sends plans through the accounts; one instance serves every send of the process."""

    accounts: Mapping[str, Account]
    recorder: Recorder = field(default_factory=NullRecorder)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    workers_per_send: int | None = None  # None: as many as the account's max_concurrency
    queue_size: int = 256
    outcome_batch: int | None = None  # outcomes per write; None: the account's max_concurrency
    outcome_delay: float = 0.05  # seconds an outcome may wait in the buffer for others
    attempt_writes: int = 8  # attempt writes of one send in flight at once (bench/store.py)
    stopping: bool = False  # set by stop_taking_new(): workers finish their batch, take no more

    def stop_taking_new(self) -> None:
        """Shutdown: let in-flight calls finish, start no new ones (they resume on restart)."""
        self.stopping = True

    def validate(self, plan: Plan) -> None:
        """Raise InvalidMessage before anything is sent if any batch would be refused."""
        account = self._account(plan)
        for batch in self._batches(account, plan.recipients):
            account.provider.validate(plan.route, plan.message, batch)

    async def dispatch(
        self, plan: Plan, *, recorder: Recorder | None = None
    ) -> AsyncIterator[Outcome]:
        """Yield one Outcome per recipient as they complete (order not kept), each recorded
        (through ``recorder`` if given: a send's own, fenced by its lease)."""
        recorder = recorder or self.recorder
        account = self._account(plan)
        self.validate(plan)
        batches: asyncio.Queue[tuple[Recipient, ...]] = asyncio.Queue()
        for batch in self._batches(account, plan.recipients):
            batches.put_nowait(batch)
        results: asyncio.Queue[list[Outcome] | BaseException | object] = asyncio.Queue(
            self.queue_size
        )
        claims = AttemptClaims(recorder, plan.request_id, max_writes=self.attempt_writes)
        buffer = OutcomeBuffer(
            recorder,
            plan.request_id,
            results.put,
            size=self.outcome_batch or account.max_concurrency,
            delay=self.outcome_delay,
        )
        writer = asyncio.create_task(_drain(buffer, results))
        workers = [
            asyncio.create_task(self._worker(account, plan, batches, claims, buffer, results))
            for _ in range(min(self.workers_per_send or account.max_concurrency, batches.qsize()))
        ]
        remaining = len(plan.recipients)
        finished_workers = 0
        try:
            while remaining > 0:
                item = await results.get()
                if isinstance(item, BaseException):
                    raise item
                if item is _WORKER_DONE:
                    finished_workers += 1
                    if finished_workers == len(workers):
                        buffer.close()  # the last outcomes are written, then _OUTCOMES_DONE
                    continue
                if item is _OUTCOMES_DONE:
                    raise DispatchStopped(f"{remaining} recipient(s) left for the restart")
                assert isinstance(item, list)
                for outcome in item:
                    remaining -= 1
                    yield outcome
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            writer.cancel()  # a write already begun still lands (the store shields it)
            await asyncio.gather(writer, return_exceptions=True)
            await buffer.write_rest()  # answers that came back are recorded, if not reported

    async def run(self, plan: Plan) -> list[Outcome]:
        """Dispatch and collect every outcome."""
        return [outcome async for outcome in self.dispatch(plan)]

    def _account(self, plan: Plan) -> Account:
        try:
            return self.accounts[plan.account]
        except KeyError:
            raise KeyError(f"no provider account named {plan.account!r}") from None

    @staticmethod
    def _batches(account: Account, recipients: Sequence[Recipient]) -> list[tuple[Recipient, ...]]:
        size = max(1, account.provider.batch_size)
        return [tuple(recipients[i : i + size]) for i in range(0, len(recipients), size)]

    async def _worker(
        self,
        account: Account,
        plan: Plan,
        batches: asyncio.Queue[tuple[Recipient, ...]],
        claims: AttemptClaims,
        buffer: OutcomeBuffer,
        results: asyncio.Queue[list[Outcome] | BaseException | object],
    ) -> None:
        while not batches.empty() and not self.stopping:
            batch = batches.get_nowait()
            try:
                outcomes = await self._send_batch(account, plan, batch, claims)
            except DispatchStopped:
                break  # this batch stays pending; the other workers' calls in flight finish
            except Exception as exc:  # a recorder failure must reach the caller, not vanish
                await results.put(exc)
                return
            for outcome in outcomes:
                metrics.MESSAGES.labels(account.name, outcome.status.value).inc()
            buffer.add(outcomes)  # recorded, then yielded, by the buffer; this slot moves on
        await results.put(_WORKER_DONE)

    async def _send_batch(
        self, account: Account, plan: Plan, batch: tuple[Recipient, ...], claims: AttemptClaims
    ) -> list[Outcome]:
        attempt_no = 1
        try:
            try:  # most batches go out once: no retry machinery on that path
                return await self._attempt(account, plan, batch, attempt_no, claims)
            except RetryableError as exc:
                first = exc
            retrying = AsyncRetrying(
                retry=retry_if_exception_type(RetryableError),
                stop=self._should_stop,
                wait=self._wait,
                reraise=True,
            )
            async for attempt in retrying:
                with attempt:
                    attempt_no = attempt.retry_state.attempt_number
                    if attempt_no == 1:
                        raise first  # made above; tenacity decides whether and when to retry
                    return await self._attempt(account, plan, batch, attempt_no, claims)
        except RateLimited as exc:
            if self._pause_too_long(exc):
                reason = (
                    f"rate limited for {exc.retry_after:.0f} s — too long to wait; "
                    "retry the failed recipients later"
                )
            else:
                reason = f"still rate limited after {attempt_no} attempts — retry later"
            return _outcomes(batch, OutcomeStatus.FAILED, exc, attempt_no, reason)
        except RetryableError as exc:
            reason = f"{exc.reason} (gave up after {attempt_no} attempts)"
            return _outcomes(batch, OutcomeStatus.FAILED, exc, attempt_no, reason)
        except AmbiguousError as exc:
            return _outcomes(batch, OutcomeStatus.UNKNOWN, exc, attempt_no)
        except ProviderError as exc:
            return _outcomes(batch, OutcomeStatus.FAILED, exc, attempt_no)
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(
        self,
        account: Account,
        plan: Plan,
        batch: tuple[Recipient, ...],
        attempt_no: int,
        claims: AttemptClaims,
    ) -> list[Outcome]:
        async with account.slots:
            await account.limiter.acquire(max_pause=self.retry.max_retry_after)
            if self.stopping:  # shutdown began while we waited our turn: leave it pending
                raise DispatchStopped("stopped before this batch was attempted")
            with metrics.ATTEMPT_RECORD_WAIT.labels(account.name).time():
                await claims.claim(batch, attempt_no)  # committed, with the others going out now
            started = time.monotonic()
            result_kind = "ok"
            try:
                result = await account.provider.send(plan.route, plan.message, batch)
            except ProviderError as exc:
                result_kind = exc.kind.value
                if isinstance(exc, RateLimited):
                    pause = exc.retry_after
                    account.limiter.pause(
                        self.retry.default_retry_after if pause is None else pause
                    )
                log.info(
                    "provider attempt failed",
                    extra={
                        "request_id": plan.request_id,
                        "account": account.name,
                        "attempt": attempt_no,
                        "kind": exc.kind.value,
                        "status": exc.status,
                        "code": exc.code,
                    },
                )
                raise
            except Exception as exc:
                result_kind = AdapterFailed.kind.value
                log.error(
                    "provider adapter failed unexpectedly; its recipients are unknown",
                    extra={
                        "request_id": plan.request_id,
                        "account": account.name,
                        "attempt": attempt_no,
                        # The type and where, not the message: it may quote a provider's reply.
                        "error": type(exc).__name__,
                        "where": _where(exc),
                    },
                )
                raise AdapterFailed(
                    "the bridge could not finish this call to the provider — the message may "
                    "have gone out; check with the recipient before sending again",
                    provider=account.provider.display_name,
                ) from None
            finally:
                elapsed = time.monotonic() - started
                metrics.PROVIDER_LATENCY.labels(account.name, result_kind).observe(elapsed)
                metrics.PROVIDER_ATTEMPTS.labels(account.name, result_kind).inc()
        if result.recipients_count is not None:
            await self.recorder.batch_accepted(plan.request_id, result.recipients_count)
        return [  # copied only when the count differs: one model copy per recipient adds up
            o if o.attempts == attempt_no else o.model_copy(update={"attempts": attempt_no})
            for o in result.outcomes
        ]

    def _pause_too_long(self, exc: BaseException | None) -> bool:
        return (
            isinstance(exc, RateLimited)
            and exc.retry_after is not None
            and exc.retry_after > self.retry.max_retry_after
        )

    def _should_stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            if self._pause_too_long(exc):
                return True
            return state.attempt_number >= self.retry.max_rate_limited_attempts
        return state.attempt_number >= self.retry.max_attempts

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            return 0.0  # the account limiter holds every request until Retry-After
        if self.retry.base_delay <= 0:
            return 0.0
        backoff = wait_exponential_jitter(
            initial=self.retry.base_delay, max=self.retry.max_delay, jitter=self.retry.base_delay
        )
        return float(backoff(state))


async def _drain(
    buffer: OutcomeBuffer, results: asyncio.Queue[list[Outcome] | BaseException | object]
) -> None:
    """Run the outcome buffer; its end (or a failed write) goes to the dispatch's results."""
    try:
        await buffer.run()
    except Exception as exc:  # a recorder failure must reach the caller, not vanish
        await results.put(exc)
        return
    await results.put(_OUTCOMES_DONE)


def _where(exc: BaseException) -> str:
    """``file.py:line`` of the innermost frame, so a bug can be found without a traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"


def _outcomes(
    batch: Sequence[Recipient],
    status: OutcomeStatus,
    exc: ProviderError,
    attempts: int,
    reason: str | None = None,
) -> list[Outcome]:
    return [
        Outcome(
            recipient=recipient,
            status=status,
            reason=reason or exc.reason,
            code=exc.code,
            http_status=exc.status,
            attempts=max(1, attempts),
        )
        for recipient in batch
    ]
