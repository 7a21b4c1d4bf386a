"""Report words in Jinja2 templates: a role computes, a template writes.

A role's template is a Markdown file, `<role>.md.j2`, found first in the user's folder
(`[report] templates`), then in the folder the role ships its templates in. Each section
is a `{% block %}` that records itself with `section(heading)`:

    {% block runway %}{% call section("Runway") %}
    | Entity | Months |
    ...
    {% endcall %}{% endblock %}

A user file with the same name replaces the built-in one; a file that starts with
`{% extends "default:cfo.md.j2" %}` extends it and overrides single blocks (an empty block
drops a section). The `subject` block is the email subject.

Templates run in Jinja's sandbox with `StrictUndefined`. Every value a template prints is
Markdown-escaped unless it is marked safe (`|safe`, or a helper such as `table()`), so data
(names, counterparties, memos) can never add a link, an image or a heading.

jinja2 is imported here only, and this module only where reports are rendered.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_PREFIX = "default:"


# -- escaping ------------------------------------------------------------------------------
# what makes a block of a line that starts with it: a heading, a quote, a list item
_BLOCK_START = re.compile(r"^(#|>|[-+*=](?:\s|$)|\d+[.)](?:\s|$))")


def md_text(value: Any) -> str:
    """Data text as Markdown that shows exactly that text: white space collapsed to one line,
    every character that Markdown would read as markup escaped, and nothing at its start
    that would make a heading, a quote or a list item of the line it is printed on."""
    from .render import md_escape

    text = md_escape(value)
    m = _BLOCK_START.match(text)
    if m:
        lead = m.group(1)
        if lead[0].isdigit():
            digits = lead.rstrip(".) \t")
            return digits + "\\" + text[len(digits) :]
        return "\\" + text
    return text


def _markup() -> Any:
    from markupsafe import Markup

    class MarkdownSafe(Markup):
        """Markdown that a template or a helper wrote: printed as it is."""

        __slots__ = ()

        @classmethod
        def escape(cls, s: Any) -> Any:
            if hasattr(s, "__html__"):
                return cls(s.__html__())
            return cls(md_text(s))

    return MarkdownSafe


@functools.cache
def _safe_class() -> Any:
    return _markup()


def safe(text: str) -> Any:
    """Mark Markdown as written by the template or a helper: it is not escaped."""
    return _safe_class()(text)


def _finalize(value: Any) -> Any:
    if hasattr(value, "__html__"):
        return value
    if value is None:
        return safe("")
    return safe(md_text(value))


# -- the document a template renders ---------------------------------------------------------
@dataclass
class RenderedTemplate:
    """What a role's template produced: its sections, in order, and the subject line."""

    sections: list[Any]
    subject: str
    template: str  # where the template in force was read from


@dataclass
class _Recorder:
    sections: list[Any] = field(default_factory=list)
    depth: int = 0

    def section(
        self,
        heading: str,
        since_previous: bool = False,
        signature: str = "",
        caller: Callable[[], str] | None = None,
    ) -> Any:
        """Record a section. A section called inside another one's body (an override's
        `{% call section("New name") %}{{ super() }}{% endcall %}`) gives its body to the
        outer one: that renames a section without copying it."""
        from .models import Section

        self.depth += 1
        try:
            body = str(caller()) if caller is not None else ""
        finally:
            self.depth -= 1
        if self.depth > 0:
            return safe(_tidy(body))
        self.sections.append(
            Section(
                heading=str(heading),
                body=_tidy(body),
                since_previous=bool(since_previous),
                signature=str(signature),
            )
        )
        return ""


def _tidy(body: str) -> str:
    """A section's body as the template wrote it, without the blank lines around it and
    with runs of blank lines (left by template tags) made one."""
    lines = [ln.rstrip() for ln in body.strip("\n").splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln == "" and out and out[-1] == "":
            continue
        out.append(ln)
    return "\n".join(out).strip()


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Any:
    """A Markdown table; every cell is escaped unless it is marked safe."""
    cls = _safe_class()

    def cell(v: Any) -> str:
        return str(_finalize(v))

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return cls("\n".join(lines))


def _helpers() -> dict[str, Any]:
    from .render import money

    def money_filter(value: Any, currency: Any = "$") -> Any:
        # a symbol ("$"), an ISO code ("EUR") or an entity (its `currency`): amounts read
        # from an entity's own ledger are in its currency; the consolidated `ledger` is in
        # [report] currency (other currencies converted at [report.fx] rates, or left out)
        code = getattr(currency, "currency", currency)
        return safe(md_text(money(value, str(code or "$"))))

    def md(value: Any) -> Any:
        return safe(md_text(value))

    return {
        "money": money_filter,
        "md": md,
        "safe_markdown": safe,
        "table": table,
        "chart": chart,
    }


_CHART_KIND = re.compile(r"[a-z0-9_]+")


def chart(kind: str) -> Any:
    """`{{ chart("cfo_cash") }}`: place a chart here, as an inline image. Moving or deleting
    the call moves or drops the chart; its data and alt text are filled in once the report
    is built (core/charts.py, `KINDS` lists the charts)."""
    from .charts import KINDS, placeholder

    if not isinstance(kind, str) or not _CHART_KIND.fullmatch(kind) or kind not in KINDS:
        raise ValueError(f"chart({kind!r}): no such chart (known: {', '.join(KINDS)})")
    return safe(placeholder(kind))


# -- the environment ------------------------------------------------------------------------
def _loader(user: Path | None, folders: tuple[Path, ...]) -> Any:
    from jinja2 import BaseLoader, TemplateNotFound

    class Loader(BaseLoader):
        """`name` from the user's folder first, then the role's; `default:name` from the
        role's folders only (to extend the built-in template)."""

        def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
            name = template
            places = list(folders)
            if name.startswith(DEFAULT_PREFIX):
                name = name[len(DEFAULT_PREFIX) :]
            elif user is not None:
                places.insert(0, user)
            if "/" in name or "\\" in name or name.startswith("."):
                raise TemplateNotFound(template)
            for folder in places:
                path = folder / name
                if path.is_file():
                    try:
                        source = path.read_text(encoding="utf-8")
                    except (OSError, UnicodeDecodeError) as exc:
                        raise ConfigError(f"{path}: cannot read the template: {exc}") from None
                    mtime = path.stat().st_mtime
                    return source, str(path), lambda p=path, m=mtime: p.stat().st_mtime == m
            raise TemplateNotFound(template)

    return Loader()


@functools.cache
def environment(user: Path | None, folders: tuple[Path, ...]) -> Any:
    """The sandboxed environment for a user folder and a role's template folders."""
    from jinja2 import FileSystemBytecodeCache, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=_loader(user, folders),
        # compiled templates kept between runs (Jinja's per-user folder in the temp dir,
        # keyed by the template's source): a run loads them instead of compiling again
        bytecode_cache=_bytecode_cache(FileSystemBytecodeCache),
        undefined=StrictUndefined,
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    helpers = _helpers()
    env.globals.update(helpers)
    env.filters.update(money=helpers["money"], md=helpers["md"])
    return env


def _bytecode_cache(factory: Any) -> Any:
    try:
        return factory()
    except Exception:  # no usable temp folder: compile every time
        return None


def _where(path: str, user: Path | None) -> str:
    """A template path as the user knows it: relative to the config's folder if it is in
    the user's folder, else the built-in name."""
    p = Path(path)
    if user is not None:
        try:
            return str(p.relative_to(user.parent))
        except ValueError:
            pass
    return f"{DEFAULT_PREFIX}{p.name}" if p.name else path


def _template_error(
    exc: BaseException, user: Path | None, name: str, role: str = "ROLE"
) -> ConfigError:
    """One line: `templates/cfo.md.j2:LINE: what is wrong`."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError

    if isinstance(exc, TemplateSyntaxError):
        where = _where(exc.filename or name, user)
        return ConfigError(f"{where}:{exc.lineno}: {exc.message}")
    if isinstance(exc, TemplateNotFound):
        return ConfigError(f"template {exc.name!r} not found (from {name})")
    file, line = _template_frame(exc)
    where = f"{_where(file, user)}:{line}" if file else name
    if isinstance(exc, UndefinedError):
        return ConfigError(
            f"{where}: {exc.message} (`execreport templates show {role} --vars` lists the "
            "variables)"
        )
    from jinja2.exceptions import SecurityError

    if isinstance(exc, SecurityError):
        return ConfigError(f"{where}: not allowed in a template: {exc}")
    return ConfigError(f"{where}: {type(exc).__name__}: {exc}")


def _template_frame(exc: BaseException) -> tuple[str, int]:
    """The innermost template file and line in a traceback (Jinja gives template frames
    their file name and line)."""
    found = ("", 0)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or filename.startswith("<template"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _blocks(env: Any, name: str) -> tuple[str, set[str], str | None]:
    """(source path, the names of the blocks it defines, the template it extends)."""
    source, filename, _ = env.loader.get_source(env, name)
    # the compiled template (cached, also between runs) knows its blocks: no parse needed
    blocks = set(env.get_template(name).blocks)
    m = _EXTENDS.search(_COMMENT.sub("", source))
    return filename, blocks, m.group(1) if m else None


_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_EXTENDS = re.compile(r"""\{%-?\s*extends\s+["']([^"']+)["']""")


def verify(env: Any, name: str, user: Path | None) -> None:
    """Raise a one-line ConfigError for a syntax error anywhere in the chain of templates,
    or a block that the template it extends does not have."""
    chain = []
    current: str | None = name
    seen: set[str] = set()
    try:
        while current is not None:
            if current in seen:
                raise ConfigError(f"{name}: the template extends itself ({current})")
            seen.add(current)
            filename, blocks, parent = _blocks(env, current)
            chain.append((current, filename, blocks))
            current = parent
    except ConfigError:
        raise
    except Exception as exc:
        raise _template_error(exc, user, name) from None
    for i, (child, filename, blocks) in enumerate(chain[:-1]):
        above: set[str] = set()
        for _, _, parent_blocks in chain[i + 1 :]:
            above |= parent_blocks
        for block in sorted(blocks - above):
            line = _block_line(env, child, block)
            raise ConfigError(
                f"{_where(filename, user)}:{line}: block {block!r} does not exist in "
                f"{chain[i + 1][0]}"
            )


def _block_line(env: Any, name: str, block: str) -> int:
    from jinja2 import nodes

    source, filename, _ = env.loader.get_source(env, name)
    for b in env.parse(source, name, filename).find_all(nodes.Block):
        if b.name == block:
            return int(b.lineno)
    return 1


_UNESCAPE = re.compile(r"\\(.)")


def render_file(
    name: str,
    variables: dict[str, Any],
    *,
    folders: Sequence[Path | str] = (),
    user_folder: Path | str | None = None,
    subject: str | None = None,
    subject_key: str = "subject",
    role: str | None = None,
) -> RenderedTemplate:
    """Render a role's template into its sections and subject.

    `name` is the file name (`cfo.md.j2`), looked up in `user_folder` first and then in
    `folders` (the role's own template folders). `subject`, when given (`[roles.<name>]
    subject`), is a template string with the same variables that replaces the template's
    `subject` block. Errors are one-line ConfigErrors naming the file and line."""
    user = Path(user_folder).resolve() if user_folder is not None else None
    dirs = tuple(Path(f).resolve() for f in folders)
    env = environment(user, dirs)
    verify(env, name, user)
    recorder = _Recorder()
    context_vars = {**variables, "section": recorder.section}
    try:
        template = env.get_template(name)
        ctx = template.new_context(context_vars)
        rest = "".join(template.root_render_func(ctx))
        subject_block = ctx.blocks.get("subject")
        raw_subject = "".join(subject_block[0](ctx)) if subject_block else ""
        if subject is not None:
            try:
                line = env.from_string(subject).render(context_vars)
            except Exception as exc:
                raise ConfigError(f"{subject_key}: {_one_line(exc)}") from None
        else:
            line = raw_subject
    except ConfigError:
        raise
    except Exception:
        try:  # Jinja's own handler gives the traceback the templates' file names and lines
            env.handle_exception()
        except Exception as exc:
            raise _template_error(exc, user, name, role or name.split(".")[0]) from None
    stray = rest.replace(raw_subject, "", 1) if raw_subject else rest
    if stray.strip():
        text = " ".join(stray.split())[:60]
        raise ConfigError(
            f"{_where(template.filename or name, user)}: text outside any section(...): "
            f"{text!r} (put it inside a {{% call section(...) %}} block)"
        )
    # a subject is a header, not Markdown: the escapes that made data text safe go
    line = _UNESCAPE.sub(r"\1", " ".join(line.split()))
    if subject is not None and not line:
        raise ConfigError(f"{subject_key}: the subject template renders an empty subject")
    return RenderedTemplate(
        sections=recorder.sections, subject=line, template=_where(template.filename or "", user)
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "message", None) or exc).split())


def template_name(role: Any) -> str:
    return f"{role.name}.md.j2"


def role_folders(role: Any) -> tuple[Path, ...]:
    folder = getattr(role, "template_folder", None)
    return (Path(folder),) if folder else ()


def render_template(ctx: Any, role: Any, variables: dict[str, Any]) -> RenderedTemplate:
    """Render `role`'s template (`<role.name>.md.j2` from `role.template_folder`, unless the
    user's `[report] templates` folder has one) with `variables` plus `title`, `period`,
    `as_of`, `entities` and `settings`. `[roles.<name>] subject` replaces the template's
    subject block. This is the helper a third-party role calls: it gets the overrides, the
    escaping and the one-line errors of the built-in roles."""
    settings = dict(getattr(ctx, "settings", {}) or {})
    subject = settings.get("subject")
    if subject is not None and not isinstance(subject, str):
        raise ConfigError(f"roles.{role.name}.subject: expected a string")
    base = {
        "title": role.title,
        "period": ctx.period,
        "as_of": ctx.as_of,
        "entities": ctx.entities,
        "settings": settings,
    }
    return render_file(
        template_name(role),
        {**base, **variables},
        folders=role_folders(role),
        user_folder=getattr(ctx, "template_folder", None),
        subject=subject,
        subject_key=f"roles.{role.name}.subject",
        role=role.name,
    )


STANDARD_VARIABLES = {
    "title": "the report's title (the role's `title`)",
    "period": "the period label, such as `Q1 2025`",
    "as_of": "the report's date (a date: `{{ as_of.isoformat() }}`)",
    "entities": "the entities, each with `key`, `name`, `kind`, `currency`, ...",
    "settings": "the role's `[roles.<name>]` table",
    "section": "`{% call section(heading) %}body{% endcall %}` records a section",
    "table": "`table(header, rows)`: a Markdown table, every cell escaped",
    "money": "`money(value)` or `value|money`: `$1,234.56`, `n/a` for none; "
    "`value|money(entity)` or `value|money('EUR')`: `€1,234.56`",
    "md": "`md(text)`: escape text explicitly (values are escaped when printed anyway)",
    "safe_markdown": "`safe_markdown(text)` or `text|safe`: Markdown printed as it is",
    "chart": "`chart(name)`: an inline chart image here (cfo_cash, cfo_break_even, ceo_cash, "
    "accounting_expenses, accounting_deferred, cmo_channels, cto_checks)",
}


def check_role_template(role: Any, user_folder: Path | None) -> str | None:
    """Check a role's template in force without rendering it: syntax, blocks that exist in
    the parent, variables the role does not provide. Returns where it was read from (None
    for a role without a template); raises a one-line ConfigError."""
    from jinja2 import meta, nodes

    folders = role_folders(role)
    name = template_name(role)
    if not folders and not (user_folder and (user_folder / name).is_file()):
        return None
    user = Path(user_folder).resolve() if user_folder is not None else None
    env = environment(user, tuple(f.resolve() for f in folders))
    verify(env, name, user)
    known = set(STANDARD_VARIABLES) | set(getattr(role, "template_variables", {}) or {})
    current: str | None = name
    where = ""
    while current is not None:
        filename, _, parent = _blocks(env, current)
        where = where or _where(filename, user)
        source = env.loader.get_source(env, current)[0]
        tree = env.parse(source, current, filename)
        # names the template itself defines at its top level (macros, {% set %}, imports)
        own = {m.name for m in tree.find_all(nodes.Macro)}
        own |= {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        own |= {i.target for i in tree.find_all(nodes.Import)}
        own |= {
            n if isinstance(n, str) else (n[1] or n[0])
            for f in tree.find_all(nodes.FromImport)
            for n in f.names
        }
        undeclared = meta.find_undeclared_variables(tree) - known - own - set(env.globals)
        for var in sorted(undeclared):
            line = _first_use(source, var)
            raise ConfigError(
                f"{_where(filename, user)}:{line}: {var!r} is undefined "
                f"(`execreport templates show {role.name} --vars` lists the variables)"
            )
        current = parent
    return where


def _first_use(source: str, var: str) -> int:
    pattern = re.compile(rf"\b{re.escape(var)}\b")
    for i, line in enumerate(source.splitlines(), 1):
        if pattern.search(line):
            return i
    return 1


# -- what the `templates` commands show ------------------------------------------------------
@dataclass
class TemplateInfo:
    role: str
    name: str  # the file name, `cfo.md.j2`
    state: str  # built-in | replaced | extended | none
    path: str  # the file in force ("" for a role without a template)
    builtin: str  # the built-in file ("" for none)
    blocks: list[str]  # the block names of the built-in template


def describe(role: Any, user_folder: Path | None) -> TemplateInfo:
    """Which template a role renders with: its own, or the user's (replacing or extending
    it)."""
    name = template_name(role)
    builtin = next((f / name for f in role_folders(role) if (f / name).is_file()), None)
    blocks = block_names(builtin.read_text(encoding="utf-8")) if builtin else []
    user = user_folder / name if user_folder is not None else None
    if user is not None and user.is_file():
        text = user.read_text(encoding="utf-8", errors="replace")
        state = "extended" if f'"{DEFAULT_PREFIX}{name}"' in text else "replaced"
        return TemplateInfo(role.name, name, state, str(user), str(builtin or ""), blocks)
    if builtin is None:
        return TemplateInfo(role.name, name, "none", "", "", [])
    return TemplateInfo(role.name, name, "built-in", str(builtin), str(builtin), blocks)


def block_names(source: str) -> list[str]:
    """The blocks of a template, in the order they appear."""
    from jinja2 import nodes
    from jinja2.sandbox import SandboxedEnvironment

    tree = SandboxedEnvironment().parse(source)
    return [b.name for b in tree.find_all(nodes.Block)]


def variables_of(role: Any) -> dict[str, str]:
    """Every variable a role's template receives, with what it is."""
    return {**STANDARD_VARIABLES, **(getattr(role, "template_variables", {}) or {})}


def export(role: Any, folder: Path) -> Path:
    """Write the built-in template of `role` into `folder`, with its block names on top;
    never overwrites a file."""
    info = describe(role, None)
    if not info.builtin:
        raise ConfigError(f"role {role.name!r} has no template to export")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / info.name
    if target.exists():
        raise ConfigError(f"{target}: already exists; not overwritten")
    source = Path(info.builtin).read_text(encoding="utf-8")
    head = (
        f"{{# {info.name}: the built-in template of the {role.name} report, to edit.\n"
        f"   Blocks: {', '.join(info.blocks)}.\n"
        f'   To change a block or two only, replace this file with {{% extends "{DEFAULT_PREFIX}'
        f'{info.name}" %}}\n   and the blocks you change. #}}\n'
    )
    target.write_text(head + source, encoding="utf-8")
    return target
