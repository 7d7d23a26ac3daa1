"""The in-process engine writes its outcome as `json.dumps(outcome, indent=2)` would."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta

from engine.run import CaseResult, _case_text, _fields_text, indented, keyed, unkeyed, write_outcome
from standards.obligations import Obligation, ObligationState


def test_keyed_items_sort_as_their_instant_reference_and_sequence_do() -> None:
    rng = random.Random(3)
    start = datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)
    keys = [
        (
            start + timedelta(microseconds=rng.choice([0, 1, 999_999, 10**6]) * rng.randrange(3)),
            rng.choice(["01/1/26", "01/1/266", "01/10/26", "1/1/26", "A/2/26"]),
            rng.randrange(12),
        )
        for _ in range(400)
    ]
    items = [keyed(at, ref, seq, f"{at.isoformat()} {ref} {seq}") for at, ref, seq in keys]
    by_key = [f"{at.isoformat()} {ref} {seq}" for at, ref, seq in sorted(keys)]
    assert [unkeyed(item) for item in sorted(items)] == by_key


def test_an_item_written_by_shape_reads_as_the_general_encoder_writes_it() -> None:
    fields = {"at": "2026-01-01T00:00:00+00:00", "body": 'Say "hi" \u00e9\n', "status": "failed"}
    encoded = [(name, json.dumps(value)) for name, value in fields.items()]
    assert _fields_text(encoded) == indented(fields)
    started = datetime(2026, 1, 1, tzinfo=UTC)
    obligations = [
        Obligation(
            key=f"acknowledgement#{n}",
            standard="acknowledgement",
            occurrence=n + 1,
            window_amount=24,
            window_unit="hours",
            started_at=started,
            due_at=started + timedelta(hours=24),
            warn_at=started + timedelta(hours=18),
            escalate_at=started + timedelta(hours=48),
            state=ObligationState.MET if n else ObligationState.PENDING,
            met_at=started + timedelta(hours=1) if n else None,
        )
        for n in range(2)
    ]
    case = {
        "reference": "01/000001/26",
        "obligations": [
            {
                "standard": o.standard,
                "started_at": o.started_at.isoformat(),
                "due_at": o.due_at.isoformat(),
                "state": o.state.value,
                "met_at": o.met_at.isoformat() if o.met_at else None,
            }
            for o in obligations
        ],
    }
    assert _case_text("01/000001/26", obligations) == indented(case)
    assert _case_text("01/000002/26", []) == indented(
        {"reference": "01/000002/26", "obligations": []}
    )


def test_the_outcome_is_written_as_json_dumps_with_an_indent_of_two_writes_it() -> None:
    at = datetime(2026, 5, 1, 9, tzinfo=UTC)
    messages = [
        {"at": (at + timedelta(hours=h)).isoformat(), "reference": r}
        for h, r in [(2, "b"), (1, "a"), (2, "a")]
    ]
    result = CaseResult(
        case=indented({"reference": "a", "obligations": []}),
        messages=[
            keyed(datetime.fromisoformat(m["at"]), m["reference"], n, indented(m))
            for n, m in enumerate(messages)
        ],
        alerts=[],
        refusals=[((3,), indented({"index": 3, "error": "no"}))],
    )
    out = io.StringIO()
    write_outcome(out, [result], [((1,), indented({"index": 1, "error": "late"}))])
    expected = {
        "cases": [{"reference": "a", "obligations": []}],
        "messages": sorted(messages, key=lambda m: (m["at"], m["reference"])),
        "alerts": [],
        "rejected_events": [{"index": 1, "error": "late"}, {"index": 3, "error": "no"}],
    }
    assert out.getvalue() == json.dumps(expected, indent=2) + "\n"
