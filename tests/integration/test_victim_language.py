"""The victim's language end to end (Victims' Code Right 1): given at intake over the API,
refused in one line when unknown, recorded with each message and shown on the case page,
and changed from the page through the case book."""

from __future__ import annotations

from html import unescape

import httpx
from sqlalchemy import select

from standards.staff import StaffRole
from standards.vocabulary import message_language
from storage import models
from tests.support.api import (
    CASES_URL,
    Api,
    assert_problem,
    case_body,
    open_case_over_http,
    row_counts,
)
from tests.support.pages import create_staff_user, csrf_token_of, sign_in

VFU_EMAIL = "vfu-camden@met.example"


def victim_of(api: Api, reference: str) -> models.Victim:
    with api.sessions() as session:
        victim = session.scalar(
            select(models.Victim)
            .join(models.Case, models.Case.id == models.Victim.case_id)
            .where(models.Case.reference == reference)
        )
        assert victim is not None
        session.expunge(victim)
        return victim


def messages_of(api: Api, reference: str) -> list[models.OutboxMessage]:
    with api.sessions() as session:
        rows = session.scalars(
            select(models.OutboxMessage)
            .join(models.Case, models.Case.id == models.OutboxMessage.case_id)
            .where(models.Case.reference == reference)
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


async def test_an_unknown_language_is_a_422_naming_those_accepted_and_changes_nothing(
    api: Api,
) -> None:
    before = row_counts(api.sessions)
    refused = assert_problem(await api.post(CASES_URL, "writer", case_body(language="fr")), 422)
    assert [(e["pointer"], e["detail"]) for e in refused["errors"]] == [
        ("/victim/language", "a language is one of en (English), cy (Welsh)")
    ]
    assert row_counts(api.sessions) == before


async def test_a_welsh_victims_language_is_kept_recorded_with_each_message_and_changed(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden")
    reference = (
        await open_case_over_http(
            api,
            category="burglary",
            email="sian@example.org",
            preferred_channel="email",
            language="cy",
        )
    )["reference"]
    assert victim_of(api, reference).language == "cy"
    [acknowledgement] = messages_of(api, reference)
    # In Welsh where the Welsh template is shipped, else in English, saying so.
    assert (acknowledgement.language, acknowledgement.fallback_from) in {
        ("cy", None),
        ("en", "cy"),
    }
    read = (await api.get(f"{CASES_URL}/{reference}", "reader")).json()
    assert read["messages"][0]["language"] == acknowledgement.language
    assert read["messages"][0]["fallback_from"] == acknowledgement.fallback_from

    async with httpx.AsyncClient(base_url=api.http.base_url) as browser:
        vfu = await sign_in(browser, VFU_EMAIL)
        page = unescape((await vfu.get(f"/cases/{reference}")).text)
        assert (
            '<dt class="summary-list__key">Language</dt><dd class="summary-list__value">Welsh</dd>'
            in page
        )
        shown = message_language(acknowledgement.language, acknowledgement.fallback_from)
        assert f"<td>{shown}</td>" in page

        path = f"/cases/{reference}/preferences"
        form = {
            "csrf_token": csrf_token_of(page),
            "event_id": "page-language",
            "back": "case",
            "preferences-language": "en",
        }
        changed = await vfu.post(path, data=form)
        assert changed.status_code == 303, changed.text
    assert victim_of(api, reference).language == "en"
    with api.sessions() as session:
        event = session.scalar(
            select(models.CaseEventRecord).where(models.CaseEventRecord.event_id == "page-language")
        )
        assert event is not None and event.details == {"language": "en"}
