"""What-if on real history: the cases reported in a period, replayed under another policy.

Each case reported in [from, to) is read back as the service recorded it
(:mod:`reporting.what_if_history`) and run by the in-process engine (``engine.run``)
twice: under the policy it was opened on (its recorded policy id, from the policy folder)
and under the proposed policy file. Each run's obligations are counted as `pledge report`
counts them (:mod:`reporting.what_if_tally`), so both columns mean what the report means.

How it goes fast: the period's case ids are read in one query; the ids are cut into
ranges, and each range is read (three set-based queries), replayed under both policies
and counted by one of the engine's worker processes (``engine.run.run_chunks``, every
core); only the counts come back. Nothing is written anywhere. A case whose current
policy is the proposal itself is replayed once and counted for both: the engine is
deterministic, so the second run could not differ.

Decisions worth knowing (the reading ones are in ``reporting.what_if_history``):

- **Replayed to now, counted to as-of.** `pledge report` counts states as recorded when
  it runs, so each case is run to the moment the what-if runs and counted to ``--as-of``.
- **Opening.** A case is replayed from its report instant; a case opened long after it
  was reported (back-dated intake) met its opening deadlines later live than here.
- **Deliveries** are the rehearsal's (``engine.delivery``): delivered at once, but to the
  simulated failing test numbers; a live delivery that failed is not known here.
- **Migrated cases** (``pledge policy migrate``) are replayed on the version recorded
  for them now, from their report, not on the old version up to the move.
- **Explanations** (breach reasons) belong to obligations of the recorded run and are not
  carried over: a replayed breach is ``unexplained``.
- **Erased contact profiles** are replayed alike under both policies, so the difference
  stays a difference of policy; how many such cases there were is printed.
"""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from engine.delivery import CaseOutbox, MessageSetting, SimulatedDelivery
from engine.driver import CaseRun
from engine.run import CaseInput, CaseRunner, EngineConfig, drive_case, run_chunks
from messaging.rendering import MessageRenderer
from reporting.compliance import ComplianceReport
from reporting.what_if_history import (
    CaseRef,
    History,
    Period,
    RecordedCase,
    id_ranges,
    read_cases,
    reading_engine,
)
from reporting.what_if_tally import Counting, Tally, count_obligations, report_of
from standards.delivery import MessageIntent
from standards.force import Force
from standards.policy import Policy
from standards.vocabulary import Channel

__all__ = ["StoredHistory", "WhatIf", "WhatIfError", "replay_case", "what_if"]

# Cases a worker reads and replays at a time: big enough that its three queries cost
# little next to replaying it twice, small enough that both cores stay busy to the end.
RANGE_CASES = 500


class WhatIfError(ValueError):
    """A what-if that cannot be answered (nothing reported in the period, a missing policy)."""


@dataclass(frozen=True)
class StoredHistory:
    """The period's cases left in the database, each range read by the process replaying
    it: `refs` (:func:`reporting.what_if_history.case_refs`) says which cases there are."""

    url: str
    force: Force
    period: Period
    refs: list[CaseRef]


class UnrenderedDelivery(SimulatedDelivery):
    """The rehearsal's delivery without writing the messages' text.

    A what-if reads only what each send's outcome did to the case's clocks, and the
    simulated backends decide an outcome by the recipient alone, so composing the text
    (a quarter of a replay's time) is skipped; every other step is the rehearsal's.
    """

    def _text(self, outbox: CaseOutbox, intent: MessageIntent, channel: Channel) -> str:
        return ""


# One per worker process and message setting: the delivery keeps no state between cases.
_deliveries: dict[tuple[Path, MessageSetting], UnrenderedDelivery] = {}


def replay_case(config: EngineConfig, case: CaseInput, until: datetime) -> CaseRun:
    """One case run by the engine's driver, as `engine.run.CaseRunner.run` runs it, with
    its messages' outcomes but not their text."""
    delivery = _deliveries.get((config.template_dir, config.setting))
    if delivery is None:
        renderer = MessageRenderer(config.template_dir, reload_templates=False, with_html=False)
        delivery = UnrenderedDelivery(renderer, config.setting)
        _deliveries[(config.template_dir, config.setting)] = delivery
    # Its own copy of the victim: a replay changes the victim's row (an opt-out, the
    # interval), and each case is replayed under two policies.
    return drive_case(config, case, delivery, until, victim=dataclasses.replace(case.victim))


@dataclass(frozen=True)
class _Job:
    """What every range of one what-if shares."""

    current: dict[str, EngineConfig]
    proposed: EngineConfig
    until: datetime
    counting: Counting
    # The current policies that are the proposal itself: their cases are replayed once.
    same: frozenset[str] = frozenset()
    # Where a range named by its ids is read from.
    url: str | None = None
    force: Force | None = None
    period: Period | None = None


@dataclass
class _Counts:
    """What replaying some cases under both policies came to."""

    current: Tally = field(default_factory=Tally)
    proposed: Tally = field(default_factory=Tally)
    cases: int = 0
    erased_cases: int = 0
    events_without_details: int = 0

    def add(self, other: _Counts) -> None:
        self.current.update(other.current)
        self.proposed.update(other.proposed)
        self.cases += other.cases
        self.erased_cases += other.erased_cases
        self.events_without_details += other.events_without_details


# The reading engine of this process (by process id: a forked worker makes its own).
_engines: dict[tuple[int, str], Engine] = {}


def _read_range(job: _Job, first: int, last: int) -> list[RecordedCase]:
    assert job.url is not None and job.force is not None and job.period is not None
    engine = _engines.get((os.getpid(), job.url))
    if engine is None:
        engine = _engines[(os.getpid(), job.url)] = reading_engine(job.url)
    with engine.connect() as connection:
        return read_cases(connection, job.force, job.period, first, last)


def _replay_range(
    _runner: CaseRunner, chunk: tuple[_Job, list[RecordedCase] | tuple[int, int]]
) -> _Counts:
    """Read (when named by ids), replay under both policies and count some cases.

    The cycle collector is off meanwhile: a replay's objects die with its case, but each
    full collection would scan everything the process holds (modules, policies,
    templates), a sixth of a replay's time; the range's garbage is collected after.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _replay_cases(*chunk)
    finally:
        if collecting:
            gc.enable()


def _replay_cases(job: _Job, cases: list[RecordedCase] | tuple[int, int]) -> _Counts:
    if isinstance(cases, tuple):
        cases = _read_range(job, *cases)
    counts = _Counts(cases=len(cases))
    counting, until, proposed = job.counting, job.until, job.proposed
    for recorded in cases:
        case = recorded.case
        counts.erased_cases += recorded.erased
        counts.events_without_details += recorded.events_without_details
        after = replay_case(proposed, case, until).book.state.obligations
        before = (
            after
            if recorded.policy_id in job.same
            else replay_case(job.current[recorded.policy_id], case, until).book.state.obligations
        )
        count_obligations(counts.current, counting, before, case.borough, case.category)
        count_obligations(counts.proposed, counting, after, case.borough, case.category)
    return counts


@dataclass
class WhatIf:
    current: ComplianceReport
    proposed: ComplianceReport
    proposed_policy: Policy
    current_policies: list[str]
    cases: int
    erased_cases: int
    events_without_details: int
    # Cases whose recorded policy version is not the one in the policy folder.
    other_versions: int


def what_if(
    history: History | StoredHistory,
    current: dict[str, EngineConfig],
    proposed: EngineConfig,
    start: datetime,
    end: datetime,
    by: Sequence[str],
    as_of: datetime,
    *,
    standard: str | None = None,
    processes: int | None = None,
    now: datetime | None = None,
) -> WhatIf:
    """Replay `history` under each case's current policy (by id) and under `proposed`.

    Cases are run to `now` (the moment the what-if runs), as `pledge report` reads states
    as recorded when it runs, and counted to `as_of`, as the report counts.
    """
    refs = (
        history.refs
        if isinstance(history, StoredHistory)
        else [CaseRef(0, r.policy_id, r.policy_version) for r in history.cases]
    )
    if not refs:
        raise WhatIfError("no cases were reported in the period: nothing to replay")
    job = _Job(
        current=current,
        proposed=proposed,
        until=(now or datetime.now(UTC)).astimezone(UTC),
        counting=Counting.of(start, end, by, as_of, standard=standard),
        same=frozenset(policy_id for policy_id, config in current.items() if config == proposed),
    )
    chunks: list[tuple[_Job, list[RecordedCase] | tuple[int, int]]]
    if isinstance(history, StoredHistory):
        job = dataclasses.replace(job, url=history.url, force=history.force, period=history.period)
        chunks = [(job, ids) for ids in id_ranges(history.refs, RANGE_CASES)]
    else:
        cases = history.cases
        chunks = [(job, cases[i : i + RANGE_CASES]) for i in range(0, len(cases), RANGE_CASES)]
    counts = _Counts()
    try:
        for chunk_counts in run_chunks(proposed, _replay_range, chunks, processes):
            counts.add(chunk_counts)
    finally:
        engine = _engines.pop((os.getpid(), job.url or ""), None)
        if engine is not None:
            engine.dispose()
    policies = list(dict.fromkeys(ref.policy_id for ref in refs))
    return WhatIf(
        current=report_of(counts.current, job.counting),
        proposed=report_of(counts.proposed, job.counting),
        proposed_policy=proposed.policy,
        current_policies=[
            f"{c.policy.id} v{c.policy.version}" for c in (current[p] for p in policies)
        ],
        cases=counts.cases,
        erased_cases=counts.erased_cases,
        events_without_details=counts.events_without_details,
        other_versions=sum(
            ref.policy_version != current[ref.policy_id].policy.version for ref in refs
        ),
    )
