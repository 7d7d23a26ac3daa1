"""The force's data files as the service uses them: the policy (checked against the
templates on disk) and the force file (its units and bank-holiday corrections)."""

from __future__ import annotations

from pathlib import Path

from config import Settings
from messaging.rendering import message_template_names
from standards.force import Force, load_force
from standards.policy import Policy, load_policy, policy_path


def checked_policy(path: Path, settings: Settings) -> Policy:
    """The policy at `path`, refused if it names a message with no template in both forms."""
    return load_policy(path, message_template_names(settings.template_dir))


def configured_policy(settings: Settings, policy_id: str | None = None) -> Policy:
    return checked_policy(
        policy_path(settings.policy_dir, policy_id or settings.default_policy), settings
    )


def configured_force(settings: Settings) -> Force:
    return load_force(settings.resolved_force_file)
