"""execreport.toml, environment overrides and validation.

Precedence, lowest first: the config file; `SES_SENDER_EMAIL` (delivery.from) and
`AWS_REGION` (delivery.ses.region); `EXECREPORT_<TABLE>__<KEY>` variables (double underscore
between levels, e.g. `EXECREPORT_DELIVERY__SENDER=ses`); command-line options.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError

ENV_PREFIX = "EXECREPORT_"
DEFAULT_NAME = "execreport.toml"
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
# `addr`, or `Name <addr>` / `"Name, Inc." <addr>`: one mailbox, nothing around it
_MAILBOX = re.compile(
    r'^(?:(?P<name>"(?:[^"\\]|\\.)*"|[^"<>@,;:\\()\[\]]*?)\s*<(?P<angle>[^<>\s]*)>|(?P<bare>[^<>\s",;]+))$'
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def control_character(text: str) -> str | None:
    """The first control character (CR, LF, tab, NUL, ...) in `text` as `\\r`, or None."""
    found = _CONTROL.search(text)
    return repr(found.group(0))[1:-1] if found else None


def header_text(value: Any, what: str = "value") -> str:
    """A string that may go into a mail header: no CR, LF or other control characters."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {type(value).__name__}")
    bad = control_character(value)
    if bad:
        raise ValueError(f"{value!r} contains a control character ({bad}); use one plain line")
    return value


def _count_addresses(text: str) -> int:
    from email.utils import getaddresses

    return len([a for a in getaddresses([text.replace(";", ",")]) if any(a)])


def check_address(value: Any) -> str:
    """Exactly one email address, optionally as `Name <addr@domain>`; returns it stripped.

    Refused: two addresses in one value (`a@x, b@y`, `a@x; b@y`, `A <a@x> b@y`), control
    characters (CR/LF), a local part with `..` or a leading or trailing dot, a missing or
    malformed domain."""
    if not isinstance(value, str):
        raise ValueError(f"an address must be a string, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError("empty address")
    bad = control_character(text)
    if bad:
        raise ValueError(f"{text!r} contains a control character ({bad}); give one plain address")
    m = _MAILBOX.match(text)
    if m is None:
        n = _count_addresses(text)
        if n > 1:
            words = "two" if n == 2 else f"{n}"
            raise ValueError(f"{text!r} is {words} addresses; give one per list item")
        raise ValueError(f"{text!r} is not a valid email address (like Name <user@example.com>)")
    addr = m.group("angle") if m.group("angle") is not None else m.group("bare")
    local, at, domain = addr.rpartition("@")
    if not at or not local:
        raise ValueError(f"{text!r} is not a valid email address (no user@domain)")
    if "@" in local:
        raise ValueError(f"{text!r} is not a valid email address (more than one @)")
    if not domain:
        raise ValueError(f"{text!r} is not a valid email address (empty domain)")
    if not _LOCAL.match(local):
        why = (
            "the part before @ must not start or end with a dot or contain '..'"
            if "." in local
            else "the part before @ has characters an address cannot have"
        )
        raise ValueError(f"{text!r} is not a valid email address ({why})")
    if not _DOMAIN.match(domain) or len(domain) > 253:
        raise ValueError(f"{text!r} is not a valid email address (domain {domain!r})")
    return text


def bare_address(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1]


def split_addresses(text: str) -> list[str]:
    """A comma-separated list of addresses (from the environment); a comma inside a quoted
    display name does not split."""
    out, item, quoted, escaped = [], "", False, False
    for ch in text:
        if escaped:
            item, escaped = item + ch, False
        elif ch == "\\" and quoted:
            item, escaped = item + ch, True
        elif ch == '"':
            item, quoted = item + ch, not quoted
        elif ch == "," and not quoted:
            out.append(item)
            item = ""
        else:
            item += ch
    out.append(item)
    return [v.strip() for v in out if v.strip()]


def _addresses(value: Any) -> Any:
    """One string is one address (a list of one); items are checked one by one so that an
    error names its index. The environment's comma-separated lists are split earlier."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


Address = Annotated[str, AfterValidator(check_address)]


def currency_code(value: Any) -> str:
    """An ISO 4217 code, three letters ("usd" reads as "USD")."""
    text = str(value).strip().upper()
    if len(text) != 3 or not text.isalpha() or not text.isascii():
        raise ValueError(f"{value!r} is not a currency code (three letters, e.g. USD, EUR)")
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ReportSettings(_Strict):
    as_of: date | None = None
    period: str | None = None
    timezone: str = "UTC"
    stale_after_days: int = Field(default=45, ge=1)
    # a folder of templates that replace or extend the built-in ones (docs/templates.md)
    templates: str | None = None
    # the currency of consolidated sums; an entity in another one needs a [report.fx] rate
    currency: str = "USD"
    # [report.fx]: `date = "YYYY-MM-DD"` and one rate a currency, `EUR = "1.08"`: how many
    # units of `currency` one unit of it is worth, on that date
    fx: dict[str, Any] = Field(default_factory=dict)

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        return currency_code(value)

    @field_validator("fx")
    @classmethod
    def _rates(cls, value: dict[str, Any]) -> dict[str, Any]:
        from decimal import Decimal, InvalidOperation

        out: dict[str, Any] = {}
        for key, raw in value.items():
            if key == "date":
                try:
                    out["date"] = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
                except ValueError:
                    raise ValueError(f"date: {raw!r} is not a date (YYYY-MM-DD)") from None
                continue
            code = currency_code(key)
            if not isinstance(raw, str | int) or isinstance(raw, bool):
                raise ValueError(f'{key}: give the rate as a string, {key} = "1.08"')
            try:
                rate = Decimal(str(raw).strip())
            except InvalidOperation:
                raise ValueError(f"{key}: {raw!r} is not a number") from None
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"{key}: {raw!r} is not a positive rate")
            out[code] = rate
        if len(out) > ("date" in out) and "date" not in out:
            raise ValueError('the rates need the date they are from: date = "YYYY-MM-DD"')
        return out

    def rate(self, code: str) -> Any:
        """Units of `currency` one unit of `code` is worth: 1 for the report's own currency,
        None when [report.fx] has no rate for it."""
        from decimal import Decimal

        code = code.upper()
        if code == self.currency:
            return Decimal(1)
        return self.fx.get(code)

    # attach every report as a PDF too (`[roles.<name>] attach_pdf` decides per role)
    attach_pdf: StrictBool = False

    @field_validator("period")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return header_text(value, "period") if value is not None else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value


def _path_string(value: Any) -> Any:
    """A path setting is a non-empty string (TOML `path = 5` is a mistake, not a file)."""
    if isinstance(value, Path):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be a path in quotes, not {type(value).__name__} {value!r}")
    if not value.strip() or "\x00" in value:
        raise ValueError(f"{value!r} is not a usable path")
    return value


class ArchiveSettings(_Strict):
    path: Path = Path(".execreport/archive.sqlite3")
    # `--new-archive` (not a key of the file): an existing empty file may become a new archive
    new_archive: bool = Field(default=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _option_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and "new_archive" in data:
            raise ValueError("new_archive: unknown key; it is the --new-archive option")
        return data

    @field_validator("path", mode="before")
    @classmethod
    def _path_text(cls, value: Any) -> Any:
        return _path_string(value)


class EntitySettings(BaseModel):
    """`[entities.<key>]`: `path` plus whatever the entity's source plugin reads (the folder
    source: `board`, a file or a list of files)."""

    model_config = ConfigDict(extra="allow")
    path: Path

    @field_validator("path", mode="before")
    @classmethod
    def _path_text(cls, value: Any) -> Any:
        return _path_string(value)


class DeliverySettings(BaseModel):
    """`[delivery]`; each sender's own table (`[delivery.ses]`, ...) is kept as extra."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    sender: list[str] = Field(default_factory=lambda: ["outbox"])
    from_: str = Field(default="", alias="from")
    to: list[Address] = Field(default_factory=list)
    bcc: list[Address] = Field(default_factory=list)
    notify: list[Address] = Field(default_factory=list)
    only_when_changed: bool = False

    @field_validator("sender", mode="before")
    @classmethod
    def _sender_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("from_")
    @classmethod
    def _from_address(cls, value: str) -> str:
        return check_address(value) if value else value

    @field_validator("to", "bcc", "notify", mode="before")
    @classmethod
    def _address_lists(cls, value: Any) -> Any:
        return _addresses(value)

    def sender_settings(self, name: str) -> dict[str, Any]:
        extra = self.model_extra or {}
        table = extra.get(name, {})
        return dict(table) if isinstance(table, dict) else {}


class RoleSettings(BaseModel):
    """`[roles.<name>]`: recipients plus the role's own thresholds."""

    model_config = ConfigDict(extra="allow")
    to: list[Address] = Field(default_factory=list)
    enabled: bool = True
    # a template string for the mail's Subject: one line, no control characters
    subject: str | None = None
    # attach the report as a PDF (None: `[report] attach_pdf`)
    attach_pdf: StrictBool | None = None

    @field_validator("to", mode="before")
    @classmethod
    def _address_lists(cls, value: Any) -> Any:
        return _addresses(value)

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return header_text(value, "subject") if value is not None else value


class Config(_Strict):
    report: ReportSettings = Field(default_factory=ReportSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    entities: dict[str, EntitySettings] = Field(default_factory=dict)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    roles: dict[str, RoleSettings] = Field(default_factory=dict)
    # where the file was; relative paths are relative to its folder
    path: Path | None = Field(default=None, exclude=True)

    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, value: str | Path) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.folder / p

    def role_settings(self, role: str) -> dict[str, Any]:
        settings = self.roles.get(role)
        if settings is None:
            return {}
        out = {**(settings.model_extra or {}), "to": settings.to}
        if settings.subject is not None:
            out["subject"] = settings.subject
        return out

    def recipients(self, role: str) -> list[str]:
        """`[roles.<role>] to`, else `[delivery] to`, else everyone who receives a report
        (a plugin role nobody configured yet reaches the leadership, not nobody)."""
        settings = self.roles.get(role)
        if settings and settings.to:
            return settings.to
        if self.delivery.to:
            return self.delivery.to
        everyone = [a for r in self.roles.values() for a in r.to]
        return sorted(dict.fromkeys(everyone))

    def as_of(self, override: date | None = None) -> date:
        if override:
            return override
        if self.report.as_of:
            return self.report.as_of
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(self.report.timezone)).date()

    def period(self, as_of: date) -> str:
        """`[report] period`, a label for the configured `as_of`; for another date (the
        default today, or `--as-of`) the quarter of that date."""
        if self.report.period and (self.report.as_of is None or self.report.as_of == as_of):
            return self.report.period
        return f"Q{(as_of.month - 1) // 3 + 1} {as_of.year}"


def find_config(path: str | Path | None) -> Path:
    if path:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"{p}: config file not found")
        if p.is_dir():
            p = p / DEFAULT_NAME
            if not p.exists():
                raise ConfigError(f"{p}: config file not found")
        return p
    env = os.environ.get(ENV_PREFIX + "CONFIG")
    if env:
        return find_config(env)
    p = Path.cwd() / DEFAULT_NAME
    if not p.exists():
        raise ConfigError(
            f"{DEFAULT_NAME}: not found in {Path.cwd()}; pass --config PATH "
            "(examples/execreport.toml is a ready one)"
        )
    return p


def load_env_file(path: str | Path | None) -> None:
    """Load a dotenv file (e.g. repos.env) without overriding variables already set."""
    if not path:
        return
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: env file not found")
    from dotenv import dotenv_values

    for key, value in dotenv_values(p).items():
        if value is not None and key not in os.environ:
            os.environ[key] = value


def _env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _set(data: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        node = data.get(key)
        if not isinstance(node, dict):
            node = data[key] = {}
        data = node
    data[keys[-1]] = value


def _overrides(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Apply environment overrides in place; return each variable used with its key path."""
    used = []
    if os.environ.get("SES_SENDER_EMAIL"):
        _set(data, ["delivery", "from"], os.environ["SES_SENDER_EMAIL"].strip())
        used.append(("SES_SENDER_EMAIL", ["delivery", "from"]))
    if os.environ.get("AWS_REGION"):
        _set(data, ["delivery", "ses", "region"], os.environ["AWS_REGION"].strip())
        used.append(("AWS_REGION", ["delivery", "ses", "region"]))
    for name in sorted(os.environ):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__") if k]
        if keys:
            value = _env_value(os.environ[name])
            if isinstance(value, str) and _is_address_list(keys):
                value = split_addresses(value)
            _set(data, keys, value)
            used.append((name, keys))
    return used


def _is_address_list(keys: list[str]) -> bool:
    return keys in (["delivery", "to"], ["delivery", "bcc"], ["delivery", "notify"]) or (
        len(keys) == 3 and keys[0] == "roles" and keys[2] == "to"
    )


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
    return out


def load_config(path: str | Path | None = None) -> Config:
    """Read, override and validate the configuration; any problem is one `ConfigError`."""
    file = find_config(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}:{_line_of_byte(file, exc.start)}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); "
            "save the file as UTF-8"
        ) from None
    except RecursionError:
        raise ConfigError(f"{file}: not valid TOML: nested too deeply") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    overrides = _overrides(data)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _loc(err["loc"])
        keys_at = ["from" if p == "from_" else str(p) for p in err["loc"] if not isinstance(p, int)]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key" + _did_you_mean(keys_at[-1], _known_at(keys_at[:-1]))
        elif err["type"] == "missing":
            msg = "required key is missing"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{file}: {_blame(where, keys_at, overrides)}: {msg}{more}") from None
    config.path = file.resolve()
    try:
        check_tables(config)
    except _TableError as exc:
        raise ConfigError(f"{file}: {_blame(exc.where, exc.keys, overrides)}: {exc}") from None
    return config


def _blame(where: str, keys_at: list[str], overrides: list[tuple[str, list[str]]]) -> str:
    """A value that came from the environment is blamed on its variable, not the file."""
    source = next((n for n, keys in overrides if keys_at[: len(keys)] == keys), None)
    return f"{source} ({where})" if source else where


def _line_of_byte(file: Path, offset: int) -> int:
    try:
        return file.read_bytes()[:offset].count(b"\n") + 1
    except OSError:
        return 1


def _did_you_mean(key: str, known: Any) -> str:
    """`; did you mean 'bcc'?` when `key` looks like a typo of a known key, else the list."""
    import difflib

    names = sorted(str(k) for k in known)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known: {', '.join(names)})" if names else ""


def _model_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items() if not f.exclude]


def _known_at(keys: list[str]) -> list[str]:
    """The keys a strict table of the config takes."""
    tables: dict[tuple[str, ...], type[BaseModel]] = {
        (): Config,
        ("report",): ReportSettings,
        ("archive",): ArchiveSettings,
    }
    model = tables.get(tuple(keys))
    return _model_keys(model) if model else []


class _TableError(ValueError):
    def __init__(self, keys: list[Any], message: str) -> None:
        super().__init__(message)
        self.keys = keys
        self.where = _loc(tuple(keys))


def check_tables(config: Config) -> None:
    """The tables plugins read (`[delivery.<sender>]`, `[roles.<name>]`, `[entities.<key>]`),
    checked against what each registered plugin declares in `settings_defaults`; a key the
    plugin does not read is an error with a suggestion, as a misspelled key of the host is."""
    from . import plugin_manager

    senders = plugin_manager.senders()
    delivery_keys = _model_keys(DeliverySettings)
    for key, value in (config.delivery.model_extra or {}).items():
        if not isinstance(value, dict):
            raise _TableError(["delivery", key], "unknown key" + _did_you_mean(key, delivery_keys))
        factory = senders.get(key)
        if factory is None:
            hint = _did_you_mean(key, senders)
            if hint.startswith(";"):
                raise _TableError(["delivery", key], f"no sender {key!r} is registered{hint}")
            continue  # a table for a sender plugin that is not installed here
        defaults = getattr(factory, "settings_defaults", None)
        if isinstance(defaults, dict):
            check_settings(value, defaults, ["delivery", key])
    roles = plugin_manager.roles()
    for name, role_table in config.roles.items():
        defaults = getattr(roles.get(name), "settings_defaults", None)
        if isinstance(defaults, dict):
            given = role_table.model_extra or {}
            check_settings(given, defaults, ["roles", name], host=_model_keys(RoleSettings))
    sources = plugin_manager.sources()
    for key, table in config.entities.items():
        board = (table.model_extra or {}).get("board")
        for i, item in enumerate(board if isinstance(board, list) else [board]):
            if board is None:
                break
            try:
                _path_string(item)
            except ValueError as exc:
                where = ["entities", key, "board", *([i] if isinstance(board, list) else [])]
                raise _TableError(where, str(exc)) from None
        source = sources.get(key)
        defaults = getattr(source, "settings_defaults", None)
        if source is None or type(source).__name__ == "FolderSource":
            # the folder source reads `path`, `board` and its ledger files' keys
            defaults = {
                "board": None,
                "ledger": None,
                "format": None,
                "accounts": None,
                "bank_csv": None,
            }
        if isinstance(defaults, dict):
            check_settings(
                table.model_extra or {},
                defaults,
                ["entities", key],
                host=_model_keys(EntitySettings),
            )


def check_settings(
    given: Any, defaults: dict[str, Any], keys: list[str], *, host: list[str] | None = None
) -> dict[str, Any]:
    """`given` checked against `defaults` (every key the plugin reads, with its default):
    unknown keys are errors with a suggestion, and each value must have its default's type
    (a number for a number, a list for a list, a table for a table; a default of None takes
    anything). Returns the defaults updated with `given`. Raises `_TableError`."""
    if not isinstance(given, dict):
        raise _TableError(keys, "must be a table")
    known = [*defaults, *(host or [])]
    out = dict(defaults)
    for key, value in given.items():
        if key.startswith("_") or key in (host or []):
            out[key] = value
            continue
        if key not in defaults:
            raise _TableError([*keys, key], "unknown key" + _did_you_mean(key, known))
        out[key] = _typed(value, defaults[key], [*keys, key])
    return out


def _number(value: Any) -> Any:
    """An int, a finite float, or a numeric string as int or Decimal; None when not a number."""
    from decimal import Decimal, InvalidOperation

    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            return None
        if not d.is_finite():
            return None
        return int(d) if d == d.to_integral_value() else d
    return None


def _is_numeric(default: Any) -> bool:
    return _number(default) is not None and not (isinstance(default, str) and not default.strip())


def _typed(value: Any, default: Any, keys: list[Any]) -> Any:
    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _TableError(keys, f"must be true or false, not {value!r}")
        return value
    if _is_numeric(default):
        number = _number(value)
        if number is None:
            raise _TableError(keys, f"must be a number, not {value!r}")
        return value if isinstance(default, str) else number
    if isinstance(default, str):
        if not isinstance(value, str):
            raise _TableError(keys, f"must be a string in quotes, not {value!r}")
        return value
    if isinstance(default, list):
        if not isinstance(value, list):
            raise _TableError(keys, f"must be a list such as {default or ['...']!r}, not {value!r}")
        if default and all(isinstance(d, str) for d in default):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    raise _TableError([*keys, i], f"must be a string in quotes, not {item!r}")
        return value
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise _TableError(keys, f"must be a table such as {default or {'...': '...'}!r}")
        if default:
            out = dict(default)
            # the sub-keys' types are checked here; which sub-keys exist is the role's to say
            for k, v in value.items():
                out[k] = _typed(v, default[k], [*keys, k]) if k in default else v
            return out
        return value
    return value


def read_settings(role: str, given: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A role's settings (`ctx.settings`) checked against its `defaults` and merged with them.

    An unknown key (with a suggestion) or a value of the wrong type is a `ConfigError`
    naming `roles.<role>.<key>`; a role calls this where it reads its settings."""
    try:
        return check_settings(given, defaults, ["roles", role], host=_model_keys(RoleSettings))
    except _TableError as exc:
        raise ConfigError(f"{exc.where}: {exc}") from None
