"""The template sets a renderer reads: where each language's message templates live,
which a policy may name, which a language lacks (sent in English instead), and the words
of an update interval in each language (the templates' `interval` filter)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import jinja2

from standards.vocabulary import DEFAULT_LANGUAGE, Channel, Language


def message_template_path(template: str, channel: Channel, language: str = DEFAULT_LANGUAGE) -> str:
    """Where a message template lives, relative to the template directory: English at
    `messages/`, another language under `messages/<language>/`."""
    folder = "messages" if language == DEFAULT_LANGUAGE else f"messages/{language}"
    return f"{folder}/{template}.{channel.value}.j2"


def message_template_names(template_dir: Path) -> frozenset[str]:
    """The message templates on disk in every channel's form (what a policy may name)."""
    names = {path.name.split(".")[0] for path in (template_dir / "messages").glob("*.j2")}
    return frozenset(
        name
        for name in names
        if all((template_dir / message_template_path(name, c)).is_file() for c in Channel)
    )


def missing_translations(
    template_dir: Path, templates: Iterable[str], languages: Iterable[str]
) -> list[tuple[str, str, Channel]]:
    """Each (language, template, channel) with no template of its own in that language:
    a message that would be sent in English instead. English itself is never missing
    here (a policy's English templates are checked as the policy is read)."""
    return [
        (language, template, channel)
        for language in languages
        if language != DEFAULT_LANGUAGE
        for template in templates
        for channel in Channel
        if not (template_dir / message_template_path(template, channel, language)).is_file()
    ]


# An interval's words in each language: (week, weeks, day, days), "{n}" the number.
# Welsh counts with the singular noun ("4 wythnos", "14 diwrnod").
_INTERVAL_WORDS: dict[str, tuple[str, str, str, str]] = {
    Language.ENGLISH: ("week", "{n} weeks", "day", "{n} days"),
    Language.WELSH: ("wythnos", "{n} wythnos", "diwrnod", "{n} diwrnod"),
}


def interval_words(days: object, language: str = DEFAULT_LANGUAGE) -> str:
    """An update interval in words; no agreed interval means the Pledge's four weeks."""
    week, weeks, day, many_days = _INTERVAL_WORDS.get(language, _INTERVAL_WORDS[DEFAULT_LANGUAGE])
    if days is None:
        return weeks.format(n=4)
    if not isinstance(days, int) or days <= 0:
        raise ValueError(f"update interval must be a positive number of days, not {days!r}")
    if days % 7 == 0:
        count = days // 7
        return week if count == 1 else weeks.format(n=count)
    return day if days == 1 else many_days.format(n=days)


@jinja2.pass_context
def interval_in_language(context: jinja2.runtime.Context, days: object) -> str:
    """`interval` in the language of the template's set (`template_language`, which the
    renderer sets: English for an English template sent to a Welsh reader)."""
    return interval_words(days, context.get("template_language", DEFAULT_LANGUAGE))
