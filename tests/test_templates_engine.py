"""The template engine: a role computes, a template writes; users override by name or by
block, data is escaped, and every template error is one line naming file and line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from execreport import ConfigError
from execreport.templates import md_text, render_file

BUILTIN = """\
{% block subject %}{{ title }}: {{ period }}{% endblock %}
{% block sections %}
{% block position %}
{% call section("Cash position") %}
{{ name }} holds {{ cash|money }}.

{{ table(["Counterparty", "Amount"], rows) }}
{% endcall %}
{% endblock %}
{% block notes %}
{% call section("Notes") %}
{% for r in rows %}
- {{ r[0] }}
{% endfor %}
{% endcall %}
{% endblock %}
{% endblock %}
"""

VARS = {
    "title": "Demo Review",
    "period": "Q1 2025",
    "name": "Acme",
    "cash": Decimal("1234.5"),
    "rows": [["Client A", "$10.00"], ["Client B", "$20.00"]],
}


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    builtin, user = tmp_path / "builtin", tmp_path / "templates"
    builtin.mkdir()
    user.mkdir()
    (builtin / "demo.md.j2").write_text(BUILTIN, encoding="utf-8")
    return builtin, user


def render(folders: tuple[Path, Path], override: str | None = None, **kw: object):
    builtin, user = folders
    if override is not None:
        (user / "demo.md.j2").write_text(override, encoding="utf-8")
    variables = {**VARS, **kw.pop("variables", {})}  # type: ignore[dict-item]
    return render_file("demo.md.j2", variables, folders=[builtin], user_folder=user, **kw)  # type: ignore[arg-type]


def test_the_builtin_template_gives_sections_in_order_and_the_subject(folders) -> None:
    out = render(folders)
    assert out.subject == "Demo Review: Q1 2025"
    assert [s.heading for s in out.sections] == ["Cash position", "Notes"]
    assert out.sections[0].body == (
        "Acme holds $1,234.50.\n\n"
        "| Counterparty | Amount |\n|---|---|\n| Client A | $10.00 |\n| Client B | $20.00 |"
    )
    assert out.sections[1].body == "- Client A\n- Client B"


def test_a_one_line_override_drops_a_section(folders) -> None:
    out = render(folders, '{% extends "default:demo.md.j2" %}{% block notes %}{% endblock %}\n')
    assert [s.heading for s in out.sections] == ["Cash position"]
    assert out.template.endswith("templates/demo.md.j2")


def test_an_override_renames_reorders_and_adds_a_paragraph_with_a_figure(folders) -> None:
    override = """\
{% extends "default:demo.md.j2" %}
{% block sections %}{{ self.notes() }}{{ self.position() }}{% endblock %}
{% block position %}
{% call section("Money") %}
{{ super() }}
{% endcall %}
{% endblock %}
{% block notes %}
{% call section("Notes") %}
We hold {{ cash|money }} for {{ name }}.
{% endcall %}
{% endblock %}
"""
    out = render(folders, override)
    assert [s.heading for s in out.sections] == ["Notes", "Money"]
    assert out.sections[0].body == "We hold $1,234.50 for Acme."


def test_a_file_with_the_builtin_name_replaces_it(folders) -> None:
    override = '{% block subject %}Ours{% endblock %}{% call section("Only") %}x{% endcall %}'
    out = render(folders, override)
    assert (out.subject, [s.heading for s in out.sections]) == ("Ours", ["Only"])


def test_the_subject_setting_is_a_template_with_the_same_variables(folders) -> None:
    out = render(folders, subject="Money at {{ name }}, {{ period }}")
    assert out.subject == "Money at Acme, Q1 2025"


@pytest.mark.parametrize(
    "value",
    ["[click](https://evil.example)", "# Heading", "![img](https://evil.example/x.png)", "> q"],
)
def test_data_is_text_never_markup(folders, value: str) -> None:
    import markdown

    out = render(folders, variables={"name": value, "rows": [[value, value]]})
    html = markdown.markdown(
        "\n\n".join(s.body for s in out.sections), extensions=["tables", "sane_lists"]
    )
    assert "<a " not in html and "<img" not in html and "<h1" not in html
    assert "<blockquote" not in html
    # and the same through an override that prints the value itself
    out = render(
        folders,
        '{% extends "default:demo.md.j2" %}{% block notes %}'
        '{% call section("N") %}{{ name }}\n\n- {{ name }}{% endcall %}{% endblock %}',
        variables={"name": value},
    )
    html = markdown.markdown(out.sections[-1].body)
    assert "<a " not in html and "<img" not in html and "<h1" not in html


def test_md_text_escapes_what_would_start_a_block_and_nothing_else() -> None:
    assert md_text("# Heading") == "\\# Heading"
    assert md_text("1. first") == "1\\. first"
    assert md_text("- item") == "\\- item"
    assert md_text("-5.00") == "-5.00"
    assert md_text("x_y *z*") == "x\\_y \\*z\\*"
    assert md_text("a\nb   c") == "a b c"


def test_a_template_may_mark_its_own_markdown_safe(folders) -> None:
    out = render(
        folders,
        '{% extends "default:demo.md.j2" %}{% block notes %}'
        '{% call section("N") %}{{ "**bold** [link](https://example.com)"|safe }}{% endcall %}'
        "{% endblock %}",
    )
    assert out.sections[-1].body == "**bold** [link](https://example.com)"


def test_a_syntax_error_names_the_file_and_line(folders) -> None:
    with pytest.raises(ConfigError) as raised:
        render(folders, '{% extends "default:demo.md.j2" %}\n\n{% block notes %}{% if %}')
    assert str(raised.value).startswith("templates/demo.md.j2:3: ")
    assert "\n" not in str(raised.value)


def test_an_undefined_variable_names_the_variable_the_file_and_the_line(folders) -> None:
    with pytest.raises(ConfigError) as raised:
        render(
            folders,
            '{% extends "default:demo.md.j2" %}\n{% block notes %}\n'
            '{% call section("N") %}{{ runway }}{% endcall %}{% endblock %}',
        )
    assert str(raised.value).startswith("templates/demo.md.j2:3: 'runway' is undefined")


def test_a_block_the_builtin_does_not_have_is_an_error(folders) -> None:
    with pytest.raises(ConfigError) as raised:
        render(folders, '{% extends "default:demo.md.j2" %}\n\n{% block nots %}{% endblock %}')
    assert str(raised.value) == (
        "templates/demo.md.j2:3: block 'nots' does not exist in default:demo.md.j2"
    )


def test_text_outside_a_section_is_an_error_not_lost(folders) -> None:
    with pytest.raises(ConfigError, match="text outside any section"):
        render(folders, '{% extends "default:demo.md.j2" %}{% block notes %}hi{% endblock %}')


def test_the_sandbox_refuses_python_internals(folders) -> None:
    with pytest.raises(ConfigError, match="templates/demo.md.j2:1"):
        render(
            folders,
            '{% extends "default:demo.md.j2" %}{% block notes %}{% call section("x") %}'
            "{{ ''.__class__.__mro__[1].__subclasses__() }}{% endcall %}{% endblock %}",
        )


def test_an_override_cannot_read_files_outside_the_folders(folders) -> None:
    with pytest.raises(ConfigError, match="not found"):
        render(folders, '{% extends "../../etc/passwd" %}')


def test_check_knows_the_macros_and_sets_a_template_defines_itself(folders) -> None:
    from types import SimpleNamespace

    from execreport.templates import check_role_template

    builtin, user = folders
    (builtin / "demo.md.j2").write_text(
        "{% macro yes_no(v) %}{{ 'yes' if v else 'no' }}{% endmacro %}"
        "{% set label = 'x' %}"
        '{% block a %}{% call section("A") %}{{ yes_no(flag) }} {{ label }}{% endcall %}'
        "{% endblock %}",
        encoding="utf-8",
    )
    role = SimpleNamespace(
        name="demo", template_folder=builtin, template_variables={"flag": "a flag"}
    )
    assert check_role_template(role, None) == "default:demo.md.j2"
    (user / "demo.md.j2").write_text(
        '{% extends "default:demo.md.j2" %}\n{% block a %}{{ nope }}{% endblock %}'
    )
    with pytest.raises(ConfigError, match=r"templates/demo.md.j2:2: 'nope' is undefined"):
        check_role_template(role, user)
