"""Policy files: the shipped policy loads, and mistakes are named by line and field."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from messaging.rendering import DEFAULT_TEMPLATE_DIR, message_template_names
from standards.clock import WindowUnit
from standards.policy import PolicyError, Trigger, load_policy, parse_policy, policy_path

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
SOURCE = (POLICY_DIR / "met-pledge.toml").read_text()
TEMPLATES = message_template_names(DEFAULT_TEMPLATE_DIR)


def test_the_met_pledge_policy_encodes_every_standard_in_the_brief() -> None:
    policy = load_policy(POLICY_DIR / "met-pledge.toml")
    windows = {r.id: (r.window, r.unit, r.enhanced_window) for r in policy.standards}
    assert windows == {
        "acknowledgement": (24, WindowUnit.HOURS, None),
        "victim_update": (28, WindowUnit.DAYS, None),
        "dv_contact": (24, WindowUnit.HOURS, None),
        "traffic_unit_contact": (10, WindowUnit.WORKING_DAYS, None),
        "serious_assault_review": (18, WindowUnit.HOURS, None),
        "feedback_acknowledgement": (24, WindowUnit.HOURS, None),
        "arrest_charge_update": (5, WindowUnit.WORKING_DAYS, 1),
        "court_outcome_update": (1, WindowUnit.WORKING_DAYS, None),
        "closure_explanation": (5, WindowUnit.WORKING_DAYS, None),
        "update_request_reply": (2, WindowUnit.WORKING_DAYS, None),
    }
    assert (policy.id, policy.version, policy.warning_at, policy.escalate_after_hours) == (
        "met-pledge",
        3,
        0.75,
        24,
    )


def test_which_standards_apply_depends_on_the_category() -> None:
    policy = parse_policy(SOURCE)
    opened = {
        c: {r.id for r in policy.started_by(Trigger.CASE_OPENED, c)}
        for c in ("general", "domestic_abuse", "feedback", "road_traffic_collision")
    }
    assert opened == {
        "general": {"acknowledgement", "victim_update"},
        "domestic_abuse": {"acknowledgement", "victim_update", "dv_contact"},
        "feedback": {"feedback_acknowledgement"},
        "road_traffic_collision": {"acknowledgement", "victim_update", "traffic_unit_contact"},
    }
    assert (
        policy.message_for(Trigger.OFFICER_ASSIGNED, "road_traffic_collision")
        == "traffic_unit_contact"
    )
    assert policy.message_for(Trigger.OFFICER_ASSIGNED, "burglary") == "officer_assigned"
    assert policy.has_enhanced_rights("hate_crime", vulnerable=False)
    assert policy.has_enhanced_rights("burglary", vulnerable=True)
    assert not policy.has_enhanced_rights("burglary", vulnerable=False)


def broken(old: str, new: str) -> str:
    assert old in SOURCE
    with pytest.raises(PolicyError) as caught:
        parse_policy(SOURCE.replace(old, new, 1), "met-pledge.toml")
    return str(caught.value)


def line_of(text: str) -> int:
    return SOURCE.splitlines().index(text) + 1


def test_an_unknown_unit_is_named_with_its_line_and_field() -> None:
    message = broken(
        'unit = "working_days"\nmet_by = ["message:traffic',
        'unit = "fortnights"\nmet_by = ["message:traffic',
    )
    # The unit line is the sixth of the traffic_unit_contact table, after id.
    traffic_unit_line = line_of('id = "traffic_unit_contact"') + 5
    assert f"met-pledge.toml:{traffic_unit_line}: standards[3].unit:" in message
    assert "'working_days'" in message


def test_a_warning_point_outside_the_window_is_refused() -> None:
    message = broken("warning_at = 0.75", "warning_at = 1.5")
    assert f"met-pledge.toml:{line_of('warning_at = 0.75')}: warning_at:" in message


def test_a_category_that_does_not_exist_is_refused_with_the_known_ones() -> None:
    message = broken('applies_to = ["domestic_abuse"]', 'applies_to = ["domestic"]')
    assert "standards[2].applies_to" in message and "'domestic'" in message
    da_line = line_of('applies_to = ["domestic_abuse"]')
    assert f":{da_line}:" in message


def test_an_unknown_match_token_is_refused() -> None:
    message = broken('met_by = ["review"]', 'met_by = ["revue"]')
    assert "standards[4].met_by" in message and "'revue'" in message


def test_a_missing_window_is_reported() -> None:
    message = broken("window = 18\n", "")
    assert "standards[4].window: Field required" in message


def test_a_duplicate_standard_is_refused() -> None:
    message = broken('id = "dv_contact"', 'id = "acknowledgement"')
    assert "defined twice" in message


def test_broken_toml_is_reported_as_such() -> None:
    assert "not valid TOML" in broken("version = 3", "version = = 3")


def test_an_unknown_policy_id_lists_the_available_ones() -> None:
    with pytest.raises(PolicyError, match="available: \\['met-pledge', 'victims-code-2021'\\]"):
        policy_path(POLICY_DIR, "west-yorkshire")


def test_an_unknown_key_is_refused_with_the_field_it_probably_meant() -> None:
    message = broken("recurs = true", "recur = true")
    victim_update = line_of('id = "victim_update"')
    recur_line = victim_update + SOURCE.splitlines()[victim_update:].index("recurs = true") + 1
    assert f"met-pledge.toml:{recur_line}: standards[1].recur: is not a known field" in message
    assert "did you mean 'recurs'?" in message


def test_a_misspelt_top_level_setting_is_refused_rather_than_ignored() -> None:
    message = broken("escalate_after_hours = 24", "escalate_after_hour = 24")
    line = line_of("escalate_after_hours = 24")
    assert f"met-pledge.toml:{line}: escalate_after_hour: is not a known field" in message
    assert "did you mean 'escalate_after_hours'?" in message


def test_a_number_written_as_a_string_is_refused() -> None:
    message = broken("window = 28", 'window = "28"')
    assert f"met-pledge.toml:{line_of('window = 28')}: standards[1].window:" in message
    assert "not the string '28'" in message


def test_a_flag_written_as_a_string_is_refused() -> None:
    message = broken("recurs = true", 'recurs = "yes"')
    assert "standards[1].recurs: Input should be a valid boolean" in message


def test_a_message_the_policy_names_must_have_a_template() -> None:
    source = SOURCE.replace('"message:acknowledgement"', '"message:acknowledgment"', 1)
    with pytest.raises(PolicyError) as caught:
        parse_policy(source, "met-pledge.toml", message_templates=TEMPLATES)
    message = str(caught.value)
    line = source.splitlines().index('met_by = ["message:acknowledgment", "contact"]') + 1
    assert f"met-pledge.toml:{line}: standards[0].met_by: no message template" in message
    assert "'acknowledgment'" in message and "did you mean 'acknowledgement'?" in message


def test_a_message_rule_naming_a_missing_template_is_refused() -> None:
    source = SOURCE.replace('template = "closure"', 'template = "closing"', 1)
    with pytest.raises(PolicyError) as caught:
        parse_policy(source, "met-pledge.toml", message_templates=TEMPLATES)
    line = source.splitlines().index('template = "closing"') + 1
    assert f"met-pledge.toml:{line}: messages[7].template: no message template 'closing'" in str(
        caught.value
    )


def test_the_met_pledge_policy_names_only_templates_that_exist() -> None:
    assert parse_policy(SOURCE, message_templates=TEMPLATES).id == "met-pledge"


def test_a_template_counts_only_when_it_exists_for_email_and_sms(tmp_path: Path) -> None:
    messages = tmp_path / "messages"
    messages.mkdir()
    for name in ("arrest.email.j2", "arrest.sms.j2", "charge.email.j2", "_layout.html.j2"):
        (messages / name).write_text("{% block text %}x{% endblock %}")
    assert message_template_names(tmp_path) == {"arrest"}


def test_every_shipped_standard_has_an_on_time_target_as_a_fraction() -> None:
    policy = load_policy(POLICY_DIR / "met-pledge.toml")
    targets = policy.on_time_targets()
    assert set(targets) == {rule.id for rule in policy.standards}
    assert targets["acknowledgement"] == 0.95
    assert all(0 < target <= 1 for target in targets.values())


@pytest.mark.parametrize("value", ["120", "0", "-5", '"90"', "true"])
def test_an_on_time_target_outside_0_to_100_or_not_a_number_is_refused(value: str) -> None:
    message = broken("on_time_target_percent = 95", f"on_time_target_percent = {value}")
    line = line_of("on_time_target_percent = 95")
    assert f"met-pledge.toml:{line}: standards[0].on_time_target_percent:" in message


def test_a_misspelt_target_is_refused_rather_than_ignored() -> None:
    message = broken("on_time_target_percent = 95", "on_time_target = 95")
    assert "on_time_target" in message and "standards[0]" in message


def test_a_policy_answers_a_look_up_asked_again_as_it_did_first_and_stays_equal() -> None:
    policy = parse_policy(SOURCE)
    fresh = parse_policy(SOURCE)
    first = policy.started_by(Trigger.CASE_OPENED, "domestic_abuse")
    first.clear()  # a caller changing the list it was given changes nothing kept
    again = policy.started_by(Trigger.CASE_OPENED, "domestic_abuse")
    assert [r.id for r in again] == ["acknowledgement", "victim_update", "dv_contact"]
    assert policy.standard("dv_contact") is policy.standard("dv_contact")
    assert policy.message_for(Trigger.OFFICER_ASSIGNED, "burglary") == "officer_assigned"
    with pytest.raises(KeyError):
        policy.standard("no_such_standard")
    # The answers kept do not make it a different policy, nor show in its fields.
    assert policy == fresh
    assert asdict(policy) == asdict(fresh)


def test_a_contact_names_the_standard_only_where_a_named_contact_meets_it() -> None:
    policy = load_policy(POLICY_DIR / "met-pledge.toml")
    # The periodic update is met by any contact: a contact naming it would be refused.
    assert policy.standard_a_contact_names("victim_update") is None
    assert policy.standard_a_contact_names("dv_contact") == "dv_contact"
    assert policy.standard_a_contact_names("no_such_standard") is None


def test_any_contact_meets_the_periodic_update_but_only_a_named_one_meets_dv_contact() -> None:
    policy = load_policy(POLICY_DIR / "met-pledge.toml")
    update, dv_contact = policy.standard("victim_update"), policy.standard("dv_contact")
    assert update.met_by_contact(named=False) and update.met_by_contact(named=True)
    assert dv_contact.met_by_contact(named=True) and not dv_contact.met_by_contact(named=False)
