"""Acting on a case from its page, end to end: the app on a real socket, the Temporal dev
server and a worker, on SQLite and PostgreSQL. Every action posts the same event as the
API (so the case's clocks react before the page answers), redirects with 303, and shows
in the case's history under the name of who did it; a wrong field is the page again with
the error summary, a refused action says why in one line, and nothing changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
from sqlalchemy import select

from activities.retention import RetentionActivities
from standards.contracts import ErasureBatch
from standards.staff import StaffRole
from storage import models
from storage.enums import CaseStatus, ObligationState
from tests.support.api import Api, open_case_over_http
from tests.support.pages import create_staff_user, csrf_token_of, sign_in

VFU_EMAIL = "vfu-camden@met.example"
FORCE_MANAGER_EMAIL = "manager-force@met.example"


def obligation_of(api: Api, reference: str, standard: str) -> models.Obligation:
    with api.sessions() as session:
        row = session.scalar(
            select(models.Obligation)
            .join(models.Case, models.Case.id == models.Obligation.case_id)
            .where(models.Case.reference == reference, models.Obligation.standard == standard)
            .order_by(models.Obligation.id.desc())
        )
    assert row is not None, f"{reference} has no {standard} obligation"
    return row


def events_of(api: Api, reference: str) -> list[models.CaseEventRecord]:
    with api.sessions() as session:
        return list(
            session.scalars(
                select(models.CaseEventRecord)
                .join(models.Case, models.Case.id == models.CaseEventRecord.case_id)
                .where(models.Case.reference == reference)
                .order_by(models.CaseEventRecord.id)
            )
        )


def case_of(api: Api, reference: str) -> models.Case:
    with api.sessions() as session:
        row = session.scalar(select(models.Case).where(models.Case.reference == reference))
        assert row is not None
        session.expunge(row)
        return row


def event_id_of(html: str, path: str) -> str:
    """The event id the form posting to `path` carries."""
    found = re.search(
        rf'action="{re.escape(path)}"[^>]*>(?:(?!</form>).)*?name="event_id" value="([^"]+)"',
        html,
        re.DOTALL,
    )
    assert found is not None, f"no form posting to {path}"
    return found.group(1)


async def post_action(
    http: httpx.AsyncClient, reference: str, action: str, fields: dict[str, str]
) -> httpx.Response:
    """GET the case page and POST one of its case-wide action forms with `fields`."""
    page = await http.get(f"/cases/{reference}")
    assert page.status_code == 200, page.text
    path = f"/cases/{reference}/{action}"
    form = {
        "csrf_token": csrf_token_of(page.text),
        "event_id": event_id_of(page.text, path),
        "back": "case",
        **fields,
    }
    return await http.post(path, data=form)


async def followed(http: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    page = await http.get(response.headers["location"])
    assert page.status_code == 200
    return unescape(page.text)


async def test_the_case_page_opens_with_what_needs_doing_next_most_urgent_first(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    now = datetime.now(UTC)
    reference = (await open_case_over_http(api, reported_at=now - timedelta(hours=30)))["reference"]
    dv = obligation_of(api, reference, "dv_contact")
    update = obligation_of(api, reference, "victim_update")
    http = await sign_in(api.http, VFU_EMAIL)

    page = (await http.get(f"/cases/{reference}")).text

    next_up = page.index('id="next"')
    actions = page.index('id="actions"')
    assert next_up < actions < page.index("<h2>Facts</h2>")
    summary = page[next_up:actions]
    # Overdue first, then by time left.
    assert summary.index("Overdue") < summary.index('href="#method-' + str(dv.id))
    assert summary.index(f"#method-{dv.id}") < summary.index(f"#method-{update.id}")
    assert f'href="#reason-{dv.id}"' in summary
    # Each action a link to its form in the Actions section.
    assert f'id="method-{dv.id}"' in page[actions:]
    assert page.count(f'id="method-{dv.id}"') == 1


async def test_a_contact_with_a_note_keeps_the_note_out_of_the_case_and_names_who(
    api: Api, database_url: str
) -> None:
    user = create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    reference = (
        await open_case_over_http(api, reported_at=datetime.now(UTC) - timedelta(hours=30))
    )["reference"]
    dv = obligation_of(api, reference, "dv_contact")
    http = await sign_in(api.http, VFU_EMAIL)
    page = await http.get(f"/cases/{reference}")
    form = {
        "csrf_token": csrf_token_of(page.text),
        "obligation": str(dv.id),
        f"method-{dv.id}": "phone",
        f"note-{dv.id}": "Victim safe; moving to her sister's on Friday",
        "event_id": event_id_of(page.text, f"/cases/{reference}/contact"),
        "back": "case",
    }

    after = await followed(http, await http.post(f"/cases/{reference}/contact", data=form))

    assert f"Contact recorded on case {reference}" in after
    assert obligation_of(api, reference, "dv_contact").state == ObligationState.MET_LATE
    [event] = events_of(api, reference)
    assert event.actor == f"staff:{user.id}"
    assert event.note == "Victim safe; moving to her sister's on Friday"
    # What the case's clocks were told: how, never what was said.
    assert event.details == {"method": "phone"}
    history = after[after.index('id="history"') :]
    assert "Victim safe; moving to her sister's on Friday" in history and VFU_EMAIL in history
    assert f"Contact recorded by {VFU_EMAIL}" in after
    assert "staff:" not in after and "actor:" not in after

    too_long = {**form, "event_id": "page-long-note", f"note-{dv.id}": "x" * 2001}
    refused = await http.post(f"/cases/{reference}/contact", data=too_long)
    assert refused.status_code == 422
    assert f'href="#note-{dv.id}"' in refused.text
    assert "The note must be 2000 characters or fewer" in refused.text
    assert len(events_of(api, reference)) == 1


async def test_officer_arrest_charge_and_court_outcome_are_recorded_from_the_page(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    reference = (await open_case_over_http(api))["reference"]
    http = await sign_in(api.http, VFU_EMAIL)

    blank = await post_action(http, reference, "assign", {"assign-officer_name": " "})
    assert blank.status_code == 422
    assert 'href="#assign-officer_name"' in blank.text
    assert "Enter the name of the officer dealing with the case" in blank.text
    assert 'class="details case-action" id="action-assign" open' in blank.text
    assert events_of(api, reference) == []

    fields = {"assign-officer_name": "DC Sam Patel", "assign-officer_contact": "020 7946 0000"}
    page = await followed(http, await post_action(http, reference, "assign", fields))
    assert f"Officer assigned on case {reference}" in page
    assert case_of(api, reference).officer_name == "DC Sam Patel"
    page = await followed(
        http, await post_action(http, reference, "arrest", {"arrest-note": "Suspect in custody"})
    )
    assert f"Arrest recorded on case {reference}" in page
    await followed(http, await post_action(http, reference, "charge", {}))
    outcome = {"court-outcome-outcome": "Guilty; sentenced to 2 years"}
    page = await followed(http, await post_action(http, reference, "court-outcome", outcome))
    assert f"Court outcome recorded on case {reference}" in page

    events = events_of(api, reference)
    assert [e.type for e in events] == ["officer_assigned", "arrest", "charge", "court_outcome"]
    # The officer's details stay on the case, never in what the clocks were told.
    assert events[0].details == {} and events[1].note == "Suspect in custody"
    assert events[3].details == {"outcome": "Guilty; sentenced to 2 years"}
    history = page[page.index('id="history"') :]
    assert history.count(VFU_EMAIL) == 4 and "Suspect in custody" in history


async def test_the_serious_assault_review_is_recorded_from_its_row_on_the_case_page(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    reference = (await open_case_over_http(api, category="serious_assault"))["reference"]
    http = await sign_in(api.http, VFU_EMAIL)
    page = (await http.get(f"/cases/{reference}")).text
    summary = page[page.index('id="next"') : page.index('id="actions"')]
    assert 'href="#action-review"' in summary and "Record the supervisor review" in summary
    assert 'id="action-review" open' in page

    fields = {"review-note": "Reviewed by DS Khan: risk assessed as high"}
    after = await followed(http, await post_action(http, reference, "review", fields))

    assert f"Supervisor review recorded on case {reference}" in after
    assert obligation_of(api, reference, "serious_assault_review").state == ObligationState.MET
    [event] = events_of(api, reference)
    assert event.type == "review_recorded" and event.note == fields["review-note"]


async def test_closing_refuses_case_actions_until_the_case_is_reopened(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    reference = (await open_case_over_http(api))["reference"]
    http = await sign_in(api.http, VFU_EMAIL)

    # An arrest form from before the case was closed, sent afterwards.
    before = (await http.get(f"/cases/{reference}")).text
    stale_arrest = {
        "csrf_token": csrf_token_of(before),
        "event_id": event_id_of(before, f"/cases/{reference}/arrest"),
        "back": "case",
    }
    no_reason = await post_action(http, reference, "close", {})
    assert no_reason.status_code == 422
    assert "Enter why the case is closed" in no_reason.text
    page = await followed(
        http, await post_action(http, reference, "close", {"close-reason": "No further leads"})
    )
    assert f"Case closed on case {reference}" in page
    assert case_of(api, reference).status == CaseStatus.CLOSED
    assert "Record an arrest: The case is closed: reopen it first" in page

    refused = await http.post(f"/cases/{reference}/arrest", data=stale_arrest)
    assert refused.status_code == 409
    assert "Nothing recorded: The case is closed: reopen it first" in refused.text

    # A closed case still takes a note, which changes nothing else.
    empty = await post_action(http, reference, "note", {"note-note": "  "})
    assert empty.status_code == 422 and "Enter the note" in empty.text
    noted = await followed(
        http, await post_action(http, reference, "note", {"note-note": "Victim asked why"})
    )
    assert f"Note added on case {reference}" in noted
    assert "Victim asked why" in noted[noted.index('id="history"') :]
    assert case_of(api, reference).status == CaseStatus.CLOSED

    reopened = await followed(http, await post_action(http, reference, "reopen", {}))
    assert f"Case reopened on case {reference}" in reopened
    assert case_of(api, reference).status == CaseStatus.OPEN
    events = events_of(api, reference)
    assert [e.type for e in events] == ["closed", "note_added", "reopened"]
    assert events[1].note == "Victim asked why" and events[1].details == {}


async def test_preferences_and_an_update_given_are_for_those_who_may_see_the_victim(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    create_staff_user(database_url, FORCE_MANAGER_EMAIL, StaffRole.MANAGER, None)
    reference = (await open_case_over_http(api))["reference"]
    update = obligation_of(api, reference, "victim_update")

    # A browser of their own (cookies of its own).
    async with httpx.AsyncClient(base_url=api.http.base_url) as browser:
        manager = await sign_in(browser, FORCE_MANAGER_EMAIL)
        page = (await manager.get(f"/cases/{reference}")).text
        assert f'action="/cases/{reference}/preferences"' not in page
        assert "Change the victim&#39;s update preferences: Only the Victim Focus Unit" in page
        refused = await manager.post(
            f"/cases/{reference}/preferences",
            data={
                "csrf_token": csrf_token_of(page),
                "event_id": "page-forbidden",
                "back": "case",
                "preferences-updates": "no",
            },
        )
        assert refused.status_code == 403
        assert "Only the Victim Focus Unit and the manager of this case" in unescape(refused.text)
        assert events_of(api, reference) == []

    vfu = await sign_in(api.http, VFU_EMAIL)
    wrong = await post_action(
        vfu, reference, "preferences", {"preferences-update_interval_days": "often"}
    )
    assert wrong.status_code == 422
    assert "Enter the number of days between updates, like 14" in wrong.text
    fields = {"preferences-update_interval_days": "14"}
    page = await followed(vfu, await post_action(vfu, reference, "preferences", fields))
    assert f"Update preferences changed on case {reference}" in page
    retimed = obligation_of(api, reference, "victim_update")
    assert retimed.due_at - retimed.started_at == timedelta(days=14)

    given = {"update-channel": "phone", "update-note": "Told her the suspect was bailed"}
    page = await followed(vfu, await post_action(vfu, reference, "update", given))
    assert f"Update to the victim recorded on case {reference}" in page
    assert obligation_of(api, reference, "victim_update").id != update.id  # the next one
    with api.sessions() as session:
        met = session.get(models.Obligation, update.id)
        assert met is not None and met.state == ObligationState.MET

    paused = await followed(
        vfu, await post_action(vfu, reference, "preferences", {"preferences-updates": "no"})
    )
    assert "Paused at the victim" in paused
    types = [e.type for e in events_of(api, reference)]
    assert types == ["preferences_changed", "update_delivered", "preferences_changed"]


async def test_a_note_posted_to_the_api_is_stored_and_erased_with_the_victims_details(
    api: Api, database_url: str
) -> None:
    reference = (await open_case_over_http(api))["reference"]
    at = datetime.now(UTC).isoformat()
    contact = {"type": "contact_recorded", "at": at, "details": {"method": "phone", "note": "Said"}}
    posted = await api.post(f"/api/v1/cases/{reference}/events", "writer", contact)
    assert posted.status_code == 200, posted.text
    empty = {"type": "note_added", "at": at, "details": {}}
    refused = await api.post(f"/api/v1/cases/{reference}/events", "writer", empty)
    assert refused.status_code == 409
    assert "note_added needs detail 'note'" in refused.text
    closed = {"type": "closed", "at": at, "details": {"reason": "Done", "note": "Closed it"}}
    posted = await api.post(f"/api/v1/cases/{reference}/events", "writer", closed)
    assert posted.status_code == 200, posted.text
    assert [(e.type, e.note) for e in events_of(api, reference)] == [
        ("contact_recorded", "Said"),
        ("closed", "Closed it"),
    ]
    assert [e.details for e in events_of(api, reference)] == [
        {"method": "phone"},
        {"reason": "Done"},
    ]

    now = datetime.now(UTC)
    batch = ErasureBatch(
        closed_before=now + timedelta(minutes=1), retention_days=0, limit=100, erased_at=now
    )
    RetentionActivities(api.sessions).erase_expired_contacts(batch)

    assert [e.note for e in events_of(api, reference)] == [None, None]
