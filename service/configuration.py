"""The force's data files as the service uses them: the policy (checked against the
templates on disk) and the force file (its units and bank-holiday corrections)."""

from __future__ import annotations

from pathlib import Path

from config import Settings
from messaging.rendering import message_template_names
from standards.force import Force, load_force
from standards.policy import Policy, PolicyError, load_policy, policy_path


def checked_policy(path: Path, settings: Settings) -> Policy:
    """The policy at `path`, refused if it names a message with no template in both forms."""
    return load_policy(path, message_template_names(settings.template_dir))


def configured_policy(settings: Settings, policy_id: str | None = None) -> Policy:
    return checked_policy(
        policy_path(settings.policy_dir, policy_id or settings.default_policy), settings
    )


def configured_force(settings: Settings) -> Force:
    return load_force(settings.resolved_force_file)


def policies_in_order(settings: Settings) -> list[Policy]:
    """The default policy, then every other policy in the policy folder (by name) that
    loads: where a report looks for what the default policy does not define."""
    stems = sorted(p.stem for p in settings.policy_dir.glob("*.toml") if "." not in p.stem)
    found: list[Policy] = []
    for policy_id in dict.fromkeys([settings.default_policy, *stems]):
        try:
            found.append(load_policy(policy_path(settings.policy_dir, policy_id)))
        except PolicyError:
            continue
    return found


def measures_policy(settings: Settings, name: str | None = None) -> Policy | None:
    """The policy whose measures (the set `name`, or any) the reports give: the default
    policy's, else the first in the folder that defines them (a force on its own policy
    can still give the MoJ's measures over the standards it shares with the Victims'
    Code); None when no policy defines them."""
    for policy in policies_in_order(settings):
        if policy.measures_in(name) if name is not None else policy.measures:
            return policy
    return None
