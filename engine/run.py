"""Many cases through the in-process driver, over a pool of processes, as JSON.

Cases never interact, so they are run in chunks on every core; results come back in
the cases' order and are merged into the order `pledge simulate` has always printed
(messages and alerts by time, then case, then as written). Each item is encoded as
JSON by the process that ran it, so the writer only joins text.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from json.encoder import encode_basestring_ascii
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any, TypeVar

from delivery.outbox import language_fields
from engine.delivery import CaseOutbox, MessageSetting, SimulatedDelivery, Victim
from engine.driver import CaseDriver, CaseRun, PostedEvent
from messaging.rendering import MessageRenderer, message_template_names, message_template_path
from standards.case_state import CaseFacts
from standards.clock import NO_CORRECTIONS, HolidayCorrections, Nation, is_bank_holiday, to_utc_iso
from standards.delivery import FINAL_STATUS
from standards.force import Force
from standards.obligations import Obligation
from standards.policy import Policy
from standards.vocabulary import Channel, MessageStatus

# Cases per chunk handed to a worker process: big enough that sending a chunk costs
# little next to running it, small enough that both cores stay busy to the end.
CHUNK_CASES = 100


@dataclass(frozen=True)
class EngineConfig:
    """What every case of a run shares: the policy, the force's holidays, the messages."""

    policy: Policy
    template_dir: Path
    setting: MessageSetting
    corrections: HolidayCorrections = NO_CORRECTIONS
    # The force whose units the cases belong to, for callers that check them in a worker.
    force: Force | None = None


@dataclass
class CaseInput:
    reference: str
    category: str
    # The unit's id, and the name its victims read.
    borough: str
    borough_name: str
    reported_at: datetime
    victim: Victim
    vulnerable: bool = False
    nation: Nation | None = None
    # In the order they reach the case.
    events: list[PostedEvent] = field(default_factory=list)


def drive_case(
    config: EngineConfig,
    case: CaseInput,
    delivery: SimulatedDelivery,
    until: datetime,
    *,
    victim: Victim | None = None,
) -> CaseRun:
    """One case through the driver under ``config``'s policy, its messages handed to
    ``delivery``; ``victim`` (by default the case's own) is the row the run may change."""
    facts = CaseFacts(
        reference=case.reference,
        category=case.category,
        borough=case.borough,
        reported_at=case.reported_at,
        policy=config.policy,
        vulnerable=case.vulnerable,
        nation=case.nation,
    )
    outbox = CaseOutbox(
        reference=case.reference,
        category=case.category,
        borough_name=case.borough_name,
        victim=case.victim if victim is None else victim,
    )
    return CaseDriver(facts, outbox, delivery, config.corrections).drive(case.events, until)


# A sort key and an item already encoded for the output.
Encoded = tuple[tuple[Any, ...], str]
# An item already encoded for the output, led by its sort key written so that the texts
# sort as the keys would (`keyed`): plain strings, so they cross from a worker and sort
# in a fraction of the time tuples of instants take.
Keyed = str

_FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SEQ_DIGITS = 9


def keyed(at: datetime, reference: str, seq: int, text: str) -> Keyed:
    """`text` led by its key (instant, case, then as written); `unkeyed` takes it off.

    The instant as microseconds since year 1, in 18 digits (every datetime fits), the
    reference ended by NUL (never in a reference; less than any character, so a shorter
    reference sorts first as it does in a tuple), and the sequence in nine digits."""
    micros = (at - _FIRST_INSTANT) // _MICROSECOND
    assert 0 <= seq < 10**_SEQ_DIGITS and "\0" not in reference
    return f"{micros:018d}{reference}\0{seq:0{_SEQ_DIGITS}d}{text}"


def unkeyed(item: Keyed) -> str:
    return item[item.index("\0") + 1 + _SEQ_DIGITS :]


@dataclass
class CaseResult:
    case: str
    messages: list[Keyed]
    alerts: list[Keyed]
    refusals: list[Encoded]


class CaseRunner:
    """Runs cases one after another in this process."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._renderer = MessageRenderer(
            config.template_dir, reload_templates=False, with_html=False
        )
        self._delivery = SimulatedDelivery(self._renderer, config.setting)

    def warm_up(self) -> None:
        """Load what every case reads (the message templates, the bank-holiday data) now,
        so processes forked from this one share it rather than each loading it again."""
        for template in message_template_names(self.config.template_dir):
            for channel in Channel:
                self._renderer.load(message_template_path(template, channel))
        for nation in Nation:
            is_bank_holiday(date(2026, 1, 1), nation, self.config.corrections)

    def run(self, case: CaseInput, until: datetime) -> CaseRun:
        return drive_case(self.config, case, self._delivery, until)

    def run_encoded(self, case: CaseInput, until: datetime) -> CaseResult:
        return encode(self.run(case, until))


def indented(item: Any) -> str:
    """An item of a top-level list as `json.dumps(outcome, indent=2)` writes it.

    The standard library encodes indented JSON in Python, not C; an outcome's items
    are small plain dicts and lists, written here directly (strings by its C encoder).
    """
    return "    " + _indented_json(item, 2)


def _indented_json(value: Any, level: int) -> str:
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    inner = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [
            inner + encode_basestring_ascii(key) + ": " + _indented_json(item, level + 1)
            for key, item in value.items()
        ]
        return "{" + ",".join(parts) + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        parts = [inner + _indented_json(item, level + 1) for item in value]
        return "[" + ",".join(parts) + "\n" + "  " * level + "]"
    return json.dumps(value)


def message_status(status: MessageStatus) -> str:
    """A message's status as the rehearsal prints it: the book's word once final."""
    final = FINAL_STATUS.get(status)
    return str((final or status).value)


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring_ascii(value)


# An outcome's items as `indented` writes them, spelled out for the shapes written most
# (the same text, in a fraction of the time): each field on its own line, six spaces in.
_OBLIGATION = (
    "\n        {{"
    '\n          "standard": {},'
    '\n          "started_at": {},'
    '\n          "due_at": {},'
    '\n          "state": {},'
    '\n          "met_at": {}'
    "\n        }}"
)


def _case_text(reference: str, obligations: list[Obligation]) -> str:
    items = ",".join(
        [
            _OBLIGATION.format(
                _text(o.standard),
                _text(to_utc_iso(o.started_at)),
                _text(to_utc_iso(o.due_at)),
                _text(o.state.value),
                _text(to_utc_iso(o.met_at) if o.met_at else None),
            )
            for o in obligations
        ]
    )
    listed = f"[{items}\n      ]" if obligations else "[]"
    return f'    {{\n      "reference": {_text(reference)},\n      "obligations": {listed}\n    }}'


def _fields_text(fields: list[tuple[str, str]]) -> str:
    """An item whose fields are already encoded, as `indented` writes it."""
    return "    {" + ",".join([f'\n      "{name}": {value}' for name, value in fields]) + "\n    }"


def encode(run: CaseRun) -> CaseResult:
    reference = run.book.facts.reference
    quoted = _text(reference)
    messages: list[Keyed] = []
    for row in run.outbox.rows.values():
        created = row.created_at.astimezone(UTC)
        fields = [
            ("at", _text(to_utc_iso(created))),
            ("reference", quoted),
            ("channel", _text(row.channel)),
            ("to", _text(row.recipient)),
            ("template", _text(row.template)),
            ("body", _text(row.body)),
            ("status", _text(message_status(row.status))),
        ]
        if row.error:
            fields.append(("error", _text(row.error)))
        # English, as every shipped scenario's, says nothing (their output is unchanged).
        fields += [(name, _text(value)) for name, value in language_fields(row)]
        messages.append(keyed(created, reference, row.seq, _fields_text(fields)))
    alerts: list[Keyed] = []
    for alert in run.alerts:
        at = alert.at.astimezone(UTC)
        fields = [
            ("at", _text(to_utc_iso(at))),
            ("reference", quoted),
            ("standard", _text(alert.standard)),
            ("kind", _text(alert.kind.value)),
        ]
        alerts.append(keyed(at, reference, alert.seq, _fields_text(fields)))
    refusals: list[Encoded] = [
        (
            (refusal.index,),
            indented(
                {
                    "index": refusal.index,
                    "reference": reference,
                    "type": refusal.event.type.value,
                    "at": to_utc_iso(refusal.event.at),
                    "error": refusal.error,
                }
            ),
        )
        for refusal in run.refusals
    ]
    return CaseResult(_case_text(reference, run.book.state.obligations), messages, alerts, refusals)


# -- the pool ------------------------------------------------------------------

_runner: CaseRunner | None = None

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")


def _adopt_runner(runner: CaseRunner) -> None:
    global _runner
    _runner = runner


# The chunks of the run under way: workers are forked once they are set, so they read
# them from memory, and only each chunk's number and result cross between processes.
_chunks: list[Any] = []


def _run_in_worker(task: Callable[[CaseRunner, Chunk], Result], number: int) -> Result:
    assert _runner is not None
    chunk: Chunk = _chunks[number]
    return task(_runner, chunk)


def run_chunks(
    config: EngineConfig,
    task: Callable[[CaseRunner, Chunk], Result],
    chunks: list[Chunk],
    processes: int | None = None,
) -> Iterator[Result]:
    """`task(runner, chunk)` for every chunk, in order; on several processes if there are
    several chunks. `task` must be a module-level function (it is sent by name)."""
    workers = min(processes or os.cpu_count() or 1, len(chunks))
    runner = CaseRunner(config)
    if workers <= 1:
        for chunk in chunks:
            yield task(runner, chunk)
        return
    runner.warm_up()
    # What is loaded by now lives as long as the run: the collector need not scan it again
    # (and the forked workers share it rather than copying the pages it would touch).
    global _chunks
    _chunks = chunks
    gc.freeze()
    try:
        # Forked, so each worker starts with the modules, the policy, the templates and
        # the holidays already loaded (the runner is inherited, not sent).
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("fork"),
            initializer=_adopt_runner,
            initargs=(runner,),
        ) as pool:
            yield from pool.map(_run_in_worker, [task] * len(chunks), range(len(chunks)))
    finally:
        gc.unfreeze()
        _chunks = []


def _run_cases(runner: CaseRunner, chunk: tuple[list[CaseInput], datetime]) -> list[CaseResult]:
    cases, until = chunk
    return [runner.run_encoded(case, until) for case in cases]


def run_cases(
    config: EngineConfig,
    cases: list[CaseInput],
    until: datetime,
    processes: int | None = None,
) -> Iterator[CaseResult]:
    """Each case's result, in the order of `cases`; several processes for many cases."""
    chunks = [(cases[i : i + CHUNK_CASES], until) for i in range(0, len(cases), CHUNK_CASES)]
    for results in run_chunks(config, _run_cases, chunks, processes):
        yield from results


def write_outcome(
    out: IO[str],
    results: Iterable[CaseResult],
    late_refusals: list[Encoded],
) -> None:
    """Write the outcome exactly as `json.dumps(outcome, indent=2)` and a newline would."""
    cases: list[str] = []
    messages: list[Keyed] = []
    alerts: list[Keyed] = []
    refusals: list[Encoded] = list(late_refusals)
    for result in results:
        cases.append(result.case)
        messages += result.messages
        alerts += result.alerts
        refusals += result.refusals
    messages.sort()
    alerts.sort()
    refusals.sort(key=lambda r: r[0])
    sections = [
        ("cases", cases),
        ("messages", [unkeyed(item) for item in messages]),
        ("alerts", [unkeyed(item) for item in alerts]),
    ]
    if refusals:
        sections.append(("rejected_events", [text for _, text in refusals]))
    out.write("{\n")
    for number, (name, items) in enumerate(sections):
        out.write(f'  "{name}": ')
        out.write("[\n" + ",\n".join(items) + "\n  ]" if items else "[]")
        out.write(",\n" if number < len(sections) - 1 else "\n")
    out.write("}\n")
