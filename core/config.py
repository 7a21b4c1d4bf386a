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

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

ENV_PREFIX = "EXECREPORT_"
DEFAULT_NAME = "execreport.toml"
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def check_address(value: str) -> str:
    """An email address, optionally as `Name <addr@domain>`; returns it stripped."""
    from email.utils import parseaddr

    text = str(value).strip()
    _, addr = parseaddr(text)
    if not addr or not _ADDRESS.match(addr) or ("<" in text and not text.endswith(">")):
        raise ValueError(f"{text!r} is not a valid email address")
    return text


def bare_address(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1]


def _addresses(value: Any) -> Any:
    """A comma-separated string (from the environment) becomes a list; items are checked
    one by one so that an error names its index."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return value


Address = Annotated[str, AfterValidator(check_address)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ReportSettings(_Strict):
    as_of: date | None = None
    period: str | None = None
    timezone: str = "UTC"
    stale_after_days: int = Field(default=45, ge=1)
    # a folder of templates that replace or extend the built-in ones (docs/templates.md)
    templates: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value


class ArchiveSettings(_Strict):
    path: Path = Path(".execreport/archive.sqlite3")


class EntitySettings(BaseModel):
    """`[entities.<key>]`: `path` plus whatever the entity's source plugin reads."""

    model_config = ConfigDict(extra="allow")
    path: Path


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

    @field_validator("to", mode="before")
    @classmethod
    def _address_lists(cls, value: Any) -> Any:
        return _addresses(value)


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
        return {**(settings.model_extra or {}), "to": settings.to}

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
            _set(data, keys, _env_value(os.environ[name]))
            used.append((name, keys))
    return used


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
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    overrides = _overrides(data)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _loc(err["loc"])
        keys_at = ["from" if p == "from_" else str(p) for p in err["loc"] if not isinstance(p, int)]
        # a value that came from the environment is blamed on its variable, not the file
        source = next((n for n, keys in overrides if keys_at[: len(keys)] == keys), None)
        if source:
            where = f"{source} ({where})"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{file}: {where}: {msg}{more}") from None
    config.path = file.resolve()
    return config
