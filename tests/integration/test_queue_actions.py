"""Recording a contact and explaining a breach from the staff pages, end to end: the app
on a real socket, the Temporal dev server and a worker, on SQLite and PostgreSQL. The
same events as the API, so the clocks react before the page answers and the row leaves
the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from standards.staff import StaffRole
from storage import models
from storage.enums import ObligationState
from tests.support.api import Api, open_case_over_http
from tests.support.pages import create_staff_user, csrf_token_of, form_event_id, sign_in

VFU_EMAIL = "vfu-camden@met.example"


def obligation_of(api: Api, reference: str, standard: str) -> models.Obligation:
    with api.sessions() as session:
        row = session.scalar(
            select(models.Obligation)
            .join(models.Case, models.Case.id == models.Obligation.case_id)
            .where(models.Case.reference == reference, models.Obligation.standard == standard)
        )
    assert row is not None, f"{reference} has no {standard} obligation"
    return row


def actors_of(api: Api, reference: str) -> list[str]:
    with api.sessions() as session:
        return list(
            session.scalars(
                select(models.CaseEventRecord.actor)
                .join(models.Case, models.Case.id == models.CaseEventRecord.case_id)
                .where(models.Case.reference == reference)
            )
        )


async def overdue_case(api: Api) -> str:
    """A domestic abuse case in Camden reported 30 hours ago: its 24-hour contact is breached."""
    opened = await open_case_over_http(api, reported_at=datetime.now(UTC) - timedelta(hours=30))
    reference: str = opened["reference"]
    return reference


async def test_recording_a_contact_on_an_overdue_obligation_makes_it_leave_the_queue(
    api: Api, database_url: str
) -> None:
    user = create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    reference = await overdue_case(api)
    dv = obligation_of(api, reference, "dv_contact")
    assert dv.state == ObligationState.BREACHED
    http = await sign_in(api.http, VFU_EMAIL)
    queue = await http.get("/queue?state=overdue")
    assert f'id="obligation-{dv.id}"' in queue.text
    form = {
        "csrf_token": csrf_token_of(queue.text),
        "obligation": str(dv.id),
        f"method-{dv.id}": "phone",
        "event_id": form_event_id(queue.text, dv.id, "contact"),
        "back": "state=overdue",
    }

    recorded = await http.post(f"/cases/{reference}/contact", data=form)

    assert recorded.status_code == 303, recorded.text
    location = recorded.headers["location"]
    assert location.startswith("/queue?state=overdue&done=contact")
    after = await http.get(location)
    assert after.status_code == 200
    assert f"Contact recorded on case {reference}" in after.text
    assert f'id="obligation-{dv.id}"' not in after.text
    met = obligation_of(api, reference, "dv_contact")
    assert met.state == ObligationState.MET_LATE and met.met_at is not None
    assert actors_of(api, reference) == [f"staff:{user.id}"]

    # The same form sent again (a double click) records nothing more and is no error.
    again = await http.post(f"/cases/{reference}/contact", data=form)
    assert again.status_code == 303, again.text
    assert actors_of(api, reference) == [f"staff:{user.id}"]
    # Another form, for the obligation now met, is refused and changes nothing: back to
    # the list (303) with the refusal in its error summary, so a reload posts nothing.
    stale = await http.post(
        f"/cases/{reference}/contact", data={**form, "event_id": "page-another-form"}
    )
    assert stale.status_code == 303
    refused = await http.get(stale.headers["location"])
    assert "this obligation is already met late" in refused.text
    assert actors_of(api, reference) == [f"staff:{user.id}"]


async def test_explaining_a_breach_on_the_case_page_records_it_and_it_leaves_the_queue(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    reference = await overdue_case(api)
    dv = obligation_of(api, reference, "dv_contact")
    http = await sign_in(api.http, VFU_EMAIL)
    case_page = await http.get(f"/cases/{reference}")
    assert case_page.status_code == 200, case_page.text
    assert "Breached" in case_page.text and "Alex Smith" in case_page.text
    assert "Acknowledgement" in case_page.text  # the message sent at intake

    explained = await http.post(
        f"/cases/{reference}/explanation",
        data={
            "csrf_token": csrf_token_of(case_page.text),
            "obligation": str(dv.id),
            f"reason-{dv.id}": "victim_unreachable",
            f"text-{dv.id}": "Three calls, no answer",
            "event_id": form_event_id(case_page.text, dv.id, "explanation"),
            "back": "case",
        },
    )

    assert explained.status_code == 303, explained.text
    page = await http.get(explained.headers["location"])
    assert f"Breach explained on case {reference}" in page.text
    assert "The victim could not be reached: Three calls, no answer" in page.text
    # The timeline names who explained it (the transition's cause, its actor resolved to
    # the staff member's name).
    assert f"Breach explained by {VFU_EMAIL}" in page.text
    row = obligation_of(api, reference, "dv_contact")
    assert row.explanation_reason == "victim_unreachable" and row.explained_at is not None
    queue = await http.get("/queue")
    assert f'id="obligation-{dv.id}"' not in queue.text
