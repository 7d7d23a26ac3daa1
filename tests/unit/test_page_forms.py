"""The form macros (web/pages/templates/forms.html) write the markup they are given."""

from __future__ import annotations

from web.pages.rendering import templates


def test_text_input_passes_extra_attributes_through_and_escapes_the_value() -> None:
    macro = templates.env.from_string(
        '{% from "forms.html" import text_input %}'
        "{{ text_input('code', 'Code', value=value, extra='inputmode=\"numeric\"') }}"
    )
    html = macro.render(value='"><script>')
    assert 'inputmode="numeric"' in html
    assert "inputmode=&#34;" not in html
    assert "<script>" not in html and "&#34;&gt;&lt;script&gt;" in html
