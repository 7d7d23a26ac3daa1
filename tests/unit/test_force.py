"""The force file: its units (boroughs) by id or name, its nations, its mailboxes, its
corrections to the bank holidays, and what intake makes of a borough."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from activities.alerts import AlertMailSettings, alert_recipient, borough_name
from activities.schedules import ScheduleActivities
from service.cases import CaseError, CaseIn, case_record, check_unit, workflow_input
from standards.clock import HolidayCorrections, Nation
from standards.contracts import ScheduleBatch
from standards.force import ForceError, Unit, UnknownUnit, load_force, parse_force
from standards.obligations import ScheduleRequest
from standards.policy import load_policy

POLICIES = Path(__file__).resolve().parents[2] / "policies"
MET = load_force(POLICIES / "met.force.toml")
POLICY = load_policy(POLICIES / "met-pledge.toml")
FORCE_SOURCE = (POLICIES / "met.force.toml").read_text()
# Monday 8 June 2026; Monday 15 June is a bank holiday in Scotland per `holidays`.
REPORTED = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)

BORDER_FORCE = parse_force(
    """
id = "border"
name = "Border Police"
nation = "england_and_wales"

[[units]]
id = "carlisle"
name = "Carlisle"
vfu_email = "vfu@carlisle.example"

[[units]]
id = "dumfries"
name = "Dumfries and Galloway"
nation = "scotland"
"""
)


def test_the_met_force_file_lists_the_32_london_boroughs() -> None:
    names = [unit.name for unit in MET.units]
    assert len(names) == len(set(names)) == 32
    assert {"Barking and Dagenham", "Kensington and Chelsea", "Richmond upon Thames"} <= set(names)
    assert "City of London" not in names  # policed by the City of London Police
    assert all(MET.nation_of(unit) == Nation.ENGLAND_AND_WALES for unit in MET.units)


@pytest.mark.parametrize(
    "given",
    ["Kensington and Chelsea", "kensington and chelsea", "KENSINGTON_AND_CHELSEA",
     "kensington-and-chelsea", " Kensington  and Chelsea "],
)  # fmt: skip
def test_a_borough_is_found_by_id_or_name_in_any_case(given: str) -> None:
    assert MET.resolve_unit(given).id == "kensington_and_chelsea"


def test_an_unknown_borough_is_refused_in_one_line_listing_the_accepted_ones() -> None:
    with pytest.raises(UnknownUnit) as caught:
        MET.resolve_unit("Narnia")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("unknown borough 'Narnia'; accepted (by name or id, any case): ")
    assert "Camden" in message and "Westminster" in message


def test_a_near_miss_is_offered_the_borough_it_probably_meant() -> None:
    with pytest.raises(UnknownUnit, match=r"did you mean 'Camden'\?"):
        MET.resolve_unit("Camdem")


def test_intake_keeps_the_canonical_id_and_refuses_an_unknown_borough() -> None:
    assert check_unit(MET, "camden").id == "camden"
    with pytest.raises(CaseError, match="unknown borough 'Narnia'"):
        check_unit(MET, "Narnia")


def case_in(borough: str, category: str = "road_traffic_collision") -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": "01/000001/26",
            "category": category,
            "reported_at": REPORTED,
            "borough": borough,
            "victim": {"name": "Alex Smith", "email": "alex@example.org"},
        }
    )


def traffic_due(nation: Nation | None, corrections: HolidayCorrections) -> datetime:
    built = workflow_input(case_in("dumfries"), POLICY, nation=nation, corrections=corrections)
    assert built.opening is not None
    (traffic,) = [s for s in built.opening.schedules if s.key.startswith("traffic_unit_contact")]
    return traffic.due_at


def test_a_case_in_a_scottish_unit_counts_working_days_with_scottish_holidays() -> None:
    unit = BORDER_FORCE.resolve_unit("Dumfries and Galloway")
    nation = BORDER_FORCE.nation_of(unit)
    assert nation == Nation.SCOTLAND
    # Ten working days from Monday 8 June: 9-12, 15-19, 22 June in England and Wales; in
    # Scotland 15 June is skipped, so the tenth is Tuesday 23 June (midnight BST ends it).
    assert traffic_due(None, HolidayCorrections()) == datetime(2026, 6, 22, 23, tzinfo=UTC)
    assert traffic_due(nation, HolidayCorrections()) == datetime(2026, 6, 23, 23, tzinfo=UTC)
    assert case_record(case_in("dumfries"), POLICY, nation).nation == "scotland"
    assert workflow_input(case_in("dumfries"), POLICY, nation=nation).facts.nation == nation


def test_a_bank_holiday_the_force_file_removes_counts_as_a_working_day_again() -> None:
    force = parse_force(
        FORCE_SOURCE + '\n[[bank_holidays]]\nnation = "scotland"\nremove = [2026-06-15]\n'
    )
    corrections = force.holiday_corrections
    assert traffic_due(Nation.SCOTLAND, corrections) == datetime(2026, 6, 22, 23, tzinfo=UTC)


def test_the_deadline_activity_applies_the_force_files_corrections() -> None:
    request = ScheduleRequest(
        key="arrest_charge_update#1",
        start=REPORTED,
        amount=5,
        unit="working_days",
        nation="england_and_wales",
        warning_fraction=0.75,
        escalate_after_hours=24,
    )
    # A one-off day off on Wednesday 10 June moves the fifth working day to Tuesday 16th.
    added = HolidayCorrections(added=frozenset({(Nation.ENGLAND_AND_WALES, date(2026, 6, 10))}))
    batch = ScheduleBatch(requests=[request])
    plain = ScheduleActivities().compute_schedules(batch).schedules[0]
    corrected = ScheduleActivities(added).compute_schedules(batch).schedules[0]
    assert plain.due_at == datetime(2026, 6, 15, 23, tzinfo=UTC)
    assert corrected.due_at == datetime(2026, 6, 16, 23, tzinfo=UTC)


def test_alerts_go_to_the_units_mailboxes_and_fall_back_to_the_patterns() -> None:
    settings = AlertMailSettings(
        vfu_email_pattern="vfu-{borough}@force.example",
        manager_email_pattern="manager-{borough}@force.example",
        force=BORDER_FORCE,
    )
    assert alert_recipient(settings, "vfu", "carlisle") == "vfu@carlisle.example"
    # No manager mailbox for Carlisle, and an id the force no longer lists: the patterns.
    assert alert_recipient(settings, "manager", "carlisle") == "manager-carlisle@force.example"
    assert alert_recipient(settings, "vfu", "Old Town") == "vfu-old-town@force.example"
    assert borough_name(settings, "dumfries") == "Dumfries and Galloway"


def test_the_met_alert_mailboxes_are_the_force_files() -> None:
    settings = AlertMailSettings("vfu-{borough}@x.example", "manager-{borough}@x.example", MET)
    assert (
        alert_recipient(settings, "manager", "kensington_and_chelsea")
        == "manager-kensington-and-chelsea@pledge.invalid"
    )


def broken_force(old: str, new: str) -> str:
    assert old in FORCE_SOURCE
    with pytest.raises(ForceError) as caught:
        parse_force(FORCE_SOURCE.replace(old, new, 1), "met.force.toml")
    return str(caught.value)


def test_two_units_with_one_name_are_refused() -> None:
    message = broken_force('name = "Barnet"', 'name = "camden"')
    # Camden comes after Barnet: its id is the one that clashes.
    line = FORCE_SOURCE.splitlines().index('id = "camden"') + 1
    assert message.splitlines()[1:] == [
        f"met.force.toml:{line}: units[5].id: 'camden' already names the unit 'barnet'"
    ]


def test_an_unknown_nation_for_a_unit_is_refused() -> None:
    message = broken_force('name = "Barnet"', 'name = "Barnet"\nnation = "wales"')
    assert "units[1].nation: Input should be 'england_and_wales', 'scotland'" in message


def test_a_day_both_added_and_removed_is_refused() -> None:
    addition = (
        '\n[[bank_holidays]]\nnation = "scotland"\nadd = [2026-06-15]\nremove = [2026-06-15]\n'
    )
    with pytest.raises(ForceError, match="both added and removed: 2026-06-15"):
        parse_force(FORCE_SOURCE + addition)


def test_a_missing_force_file_says_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(ForceError, match=r"no force file at .*PLEDGE_FORCE_FILE"):
        load_force(tmp_path / "nowhere.force.toml")


def test_a_unit_without_a_nation_has_its_forces() -> None:
    unit = Unit(id="camden", name="Camden")
    assert MET.nation_of(unit) == Nation.ENGLAND_AND_WALES
