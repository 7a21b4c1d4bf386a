"""CTO: security audit per stack, cost, CI/CD maturity, email authentication, UX gaps.

The analysis (SQL, checks, findings, actions, metrics) is here; the words of the report are
in templates/cto.md.j2, which receives the typed figures below."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execreport import hookimpl, read_settings

if TYPE_CHECKING:
    from execreport import Action

# `[roles.cto]` keys and their defaults (docs/roles.md, "CTO")
DEFAULTS: dict[str, Any] = {
    "software_accounts": ["6200"],
    "software_categories": ["hosting", "software"],
    "cost_share_warning_pct": 10,  # stack cost above this % of monthly revenue: a warning
    "spend_growth_warning_pct": 20,  # hosting/software spend up more than this % in a month
    "untracked_spend_tolerance_pct": 10,  # ledger spend above the [[stack]] cost by more: info
    "lighthouse_poor": 50,  # Lighthouse's own bands: 0-49 poor, 50-89 needs work, 90+ good
    "lighthouse_good": 90,
    "top_actions": 10,  # kept for old configs; the Actions table is the ranked list
    "max_rows": 12,  # rows of any table; the rest is counted and left to the archive
    "sender_domain": "",
    "due_days": {"critical": 3, "warning": 14, "info": 30},
    "check_weights": {},
}

# field -> (risk weight, remedy). The weight is the cost of inaction used to rank actions of
# the same severity: a leaked credential or a lost database outranks a missing header.
CHECKS: dict[str, tuple[int, str]] = {
    "secrets_in_repo": (
        10,
        "rotate every credential committed to the repository, purge them from its history "
        "and load secrets from the environment or a secrets manager",
    ),
    "mfa": (8, "turn on multi-factor authentication for every login to {provider}"),
    "backups": (8, "schedule automatic backups and restore one to prove they work"),
    "tls": (7, "serve it over HTTPS only, with a valid certificate and HTTP redirected"),
    "dmarc": (
        6,
        "publish DMARC p=quarantine (now {dmarc}) and move to p=reject once the aggregate "
        "reports show only your own senders",
    ),
    "spf": (6, "publish an SPF record that authorises {provider} to send for the domain"),
    "dkim": (6, "turn on DKIM signing at {provider} and publish its public key in DNS"),
    "logging": (4, "turn on access and audit logging and keep the logs"),
    "dependency_updates": (
        4,
        "turn on automated dependency updates (Dependabot or Renovate), or get {provider}'s "
        "patching commitment in writing",
    ),
    "hsts": (3, "send Strict-Transport-Security: max-age=31536000; includeSubDomains"),
    "auto_deploy_untested": (5, "add automated tests to CI before the automatic deploy"),
    "lighthouse_mobile": (3, "fix the mobile performance issues Lighthouse lists"),
    "conflict_dmarc": (6, "record one DMARC policy per domain"),
    "conflict_spf": (6, "record one SPF record per domain"),
    "ux_gap": (2, "close the gap"),
}
BASE_TRUE = ("mfa", "tls", "hsts", "backups", "dependency_updates", "logging")
MAIL_TRUE = ("spf", "dkim")
DMARC_PASS = ("quarantine", "reject")
UX_KEYS = ("ux_gaps", "lighthouse_mobile", "lighthouse_desktop")
# METRICS.md cto: which checks apply to an item, by who runs it (`hosting`)
HOSTING_TRUE: dict[str, tuple[str, ...]] = {
    "self_hosted": BASE_TRUE,
    "managed": tuple(f for f in BASE_TRUE if f != "hsts"),
    "saas": ("mfa", "backups", "logging"),
}
HOSTING_SECRETS = ("self_hosted", "managed")  # secrets_in_repo: only where you hold the code


def hosting(item: Any) -> str:
    """The item's `hosting` (default `self_hosted`); any other value is a data error that
    names the item."""
    from execreport import DataError

    value = (item.model_extra or {}).get("hosting", "self_hosted")
    if value not in HOSTING_TRUE:
        raise DataError(
            f"entity.toml [[stack]] {item.name!r}: hosting = {value!r} is not one of "
            "self_hosted, managed, saas"
        )
    return str(value)


def item_checks(item: Any) -> list[tuple[str, bool]]:
    """Each METRICS.md check that applies to one stack item: (field, passed). Only a TOML
    true/false counts: a missing field or any other value fails."""
    kind = hosting(item)
    out = [(f, getattr(item, f, None) is True) for f in HOSTING_TRUE[kind]]
    if kind in HOSTING_SECRETS:
        out.append(("secrets_in_repo", getattr(item, "secrets_in_repo", None) is False))
    if getattr(item, "sends_mail", None) is True:
        out += [(f, getattr(item, f, None) is True) for f in MAIL_TRUE]
        out.append(("dmarc", getattr(item, "dmarc", None) in DMARC_PASS))
    return out


def mail_domain(item: Any, entity: Any) -> str:
    """The domain an item's mail is judged under: its `domain`, else the entity's first
    [[assets]] domain, else its website without `www.`; "" when none is recorded."""
    own = " ".join(str((item.model_extra or {}).get("domain") or "").split())
    if own:
        return own
    for kind in ("domain", "website"):
        for a in entity.assets:
            if a.kind == kind and a.name.strip():
                name = " ".join(a.name.split())
                return name[4:] if name.lower().startswith("www.") else name
    return ""


@dataclass(frozen=True)
class DomainConflict:
    """One DNS record (SPF or DMARC: one per domain) recorded differently by the items of a
    domain. DKIM is per sending service (its own selector), so differing DKIM is no conflict."""

    domain: str
    record: str  # "spf" or "dmarc"
    values: list[tuple[str, str, Any]]  # (entity name, item name, value as written)


def domain_conflicts(entities: list[Any]) -> list[DomainConflict]:
    """SPF/DMARC values that disagree across the mail-sending items of one domain."""
    by_domain: dict[str, list[tuple[str, Any]]] = {}
    for e in entities:
        for item in e.stack:
            if getattr(item, "sends_mail", None) is True:
                domain = mail_domain(item, e)
                if domain:
                    by_domain.setdefault(domain.lower(), []).append((e.name, item))
    out = []
    for domain, items in sorted(by_domain.items()):
        for record in ("dmarc", "spf"):
            values = [(name, i.name, getattr(i, record, None)) for name, i in items]
            if len({repr(v) for _, _, v in values}) > 1:
                out.append(DomainConflict(domain, record, values))
    return out


@dataclass(frozen=True)
class Clipped:
    """A table's rows cut to `max_rows`: `rows` shown, `total`, `left_out` = total - shown."""

    rows: list[Any]
    total: int

    @property
    def left_out(self) -> int:
        return self.total - len(self.rows)


def clip(rows: list[Any], max_rows: int) -> Clipped:
    return Clipped(list(rows[: max(max_rows, 0)]), len(rows))


def stack_figures(items: list[Any]) -> dict[str, Any]:
    """The METRICS.md cto figures of a list of stack items (any order gives the same)."""
    from execreport import to_money, to_ratio

    checks = [passed for item in items for _, passed in item_checks(item)]
    failed = checks.count(False)
    cost = sum((i.monthly_cost for i in items), Decimal(0))
    score = Decimal(len(checks) - failed) / len(checks) if items and checks else None
    return {
        "stack_monthly_cost": to_money(cost),
        "security_checks": len(checks),
        "security_checks_failed": failed,
        "security_score": to_ratio(score),
    }


def builds_code(item: Any) -> bool:
    """CI/CD applies to code the business builds: `repo` set or `ci`/`tests` declared, and
    never to a `saas` item (or one marked `managed = true`, the older spelling)."""
    extra = item.model_extra or {}
    if hosting(item) == "saas" or extra.get("managed") is True:
        return False
    return bool(extra.get("repo")) or item.ci is not None or item.tests is not None


def maturity(item: Any) -> int | None:
    """CI/CD level 0-3: 1 CI runs, 2 CI runs the tests, 3 a green CI deploys. None when CI/CD
    does not apply (`builds_code`)."""
    fields = [getattr(item, f, None) for f in ("ci", "tests", "auto_deploy")]
    if not builds_code(item):
        return None
    level = 0
    for value in fields:
        if value is not True:
            break
        level += 1
    return level


def software_spend(ledger: Any, as_of: date, settings: dict[str, Any]) -> dict[str, Any]:
    """Per entity and `consolidated`: revenue over the trailing 3 months and the monthly
    hosting/software spend of those months, from the ledger in one pass."""
    from execreport import trailing_months

    start, end = trailing_months(as_of)
    accounts = [str(a).strip() for a in settings["software_accounts"]]
    categories = [str(c).strip().lower() for c in settings["software_categories"]]
    rows = ledger.sql(
        """
        SELECT coalesce(entity, '') AS g, month(date) + 12 * year(date) AS m,
               coalesce(sum(amount) FILTER (
                   WHERE regexp_full_match(account, '4[0-9]{3}')), 0),
               coalesce(-sum(amount) FILTER (
                   WHERE list_contains(?::VARCHAR[], lower(trim(category)))
                      OR list_contains(?::VARCHAR[], trim(account))), 0)
        FROM ledger WHERE date BETWEEN ? AND ?
        GROUP BY GROUPING SETS ((entity, m), (m))
        """,
        [categories, accounts, start, end],
    )
    months = [start.year * 12 + start.month + i for i in range(3)]
    out: dict[str, Any] = {}
    for g, m, revenue, spend in rows:
        slot = out.setdefault(g or "consolidated", {"revenue": {}, "spend": {}})
        slot["revenue"][m], slot["spend"][m] = revenue, spend
    figures: dict[str, Any] = {}
    for g, slot in out.items():
        spend = [slot["spend"].get(m, Decimal(0)) for m in months]
        figures[g] = {
            "revenue_3m": sum((slot["revenue"].get(m, Decimal(0)) for m in months), Decimal(0)),
            "spend": spend,
        }
    return figures


def window_months(as_of: date) -> tuple[list[date], date]:
    """The first days of the trailing 3 months, and the last day of the window."""
    from execreport import add_months, trailing_months

    start, end = trailing_months(as_of)
    return [add_months(start, i) for i in range(3)], end


def cost_figures(stack_cost: Decimal, window: dict[str, Any] | None) -> dict[str, Any]:
    """Cost figures added to the METRICS.md ones (exact; rounded by `rounded`)."""
    revenue = window["revenue_3m"] if window else Decimal(0)
    spend = window["spend"] if window else [Decimal(0)] * 3
    monthly_revenue = revenue / 3
    share = stack_cost / monthly_revenue * 100 if monthly_revenue > 0 else None
    growth = (spend[2] - spend[1]) / spend[1] * 100 if spend[1] > 0 else None
    return {
        "revenue_monthly_3m": monthly_revenue,
        "stack_cost_pct_of_revenue": share,
        "software_spend_monthly_3m": sum(spend, Decimal(0)) / 3,
        "software_spend_prior_month": spend[1],
        "software_spend_last_month": spend[2],
        "software_spend_mom_pct": growth,
    }


def practice_figures(items: list[Any]) -> dict[str, Any]:
    """CI/CD and mail figures added to the METRICS.md ones."""
    from execreport import to_ratio

    levels = [lv for lv in (maturity(i) for i in items) if lv is not None]
    mail = [i for i in items if getattr(i, "sends_mail", None) is True]
    return {
        "cicd_average_level": to_ratio(Decimal(sum(levels)) / len(levels)) if levels else None,
        "mail_items": len(mail),
        "mail_items_authenticated": sum(1 for i in mail if mail_authenticated(i)),
    }


def mail_authenticated(item: Any) -> bool:
    return all(passed for f, passed in item_checks(item) if f in ("spf", "dkim", "dmarc"))


def rounded(figures: dict[str, Any]) -> dict[str, Any]:
    from execreport import to_money, to_ratio

    money_keys = {"revenue_monthly_3m", "software_spend_monthly_3m"}
    money_keys |= {"software_spend_prior_month", "software_spend_last_month"}
    return {k: to_money(v) if k in money_keys else to_ratio(v) for k, v in figures.items()}


def _decimal(value: Any, key: str) -> Decimal:
    from execreport import ExecReportError

    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ExecReportError(f"[roles.cto] {key}: {value!r} is not a number") from None


def _pct(value: Any) -> str:
    """A percentage metric (already rounded to two places) as printed."""
    return "n/a" if value is None else f"{Decimal(str(value)):.2f}%"


def _fixed(value: Any) -> str:
    """A number with two decimals (a score, a change in points); `n/a` for none."""
    return "n/a" if value is None else f"{Decimal(str(value)):.2f}"


def _one_line(value: Any) -> str:
    """Data text with its white space collapsed, as a table cell shows it."""
    return " ".join(str(value).split())


# -- what the template receives: typed figures, no prose --------------------------------------
@dataclass(frozen=True)
class AuditRow:
    """One [[stack]] item's security checks."""

    entity: str
    system: str
    provider: str
    monthly_cost: Decimal
    checks: int
    passed: int
    failing: list[str]  # check names (fields of [[stack]]), in checklist order


@dataclass(frozen=True)
class SecurityAudit:
    checks: int
    failed: int
    score: float | None
    items: list[AuditRow]  # the items with the most failing checks first, at most max_rows
    left_out: int = 0  # items not shown (max_rows)


@dataclass(frozen=True)
class CostRow:
    """Cost figures of one entity, or of all of them (`entity` None)."""

    entity: str | None
    stack_cost: Decimal
    revenue_monthly: Decimal
    stack_pct_of_revenue: float | None
    spend_monthly: Decimal
    spend_prior_month: Decimal
    spend_last_month: Decimal
    spend_mom_pct: float | None


@dataclass(frozen=True)
class CostAnalysis:
    total: CostRow
    entities: list[CostRow]
    months: list[date]  # first days of the trailing 3 months
    window_end: date
    categories: list[str]  # software_categories as configured
    accounts: list[str]  # software_accounts as configured
    share_warning_pct: Decimal
    growth_warning_pct: Decimal
    untracked_tolerance_pct: Decimal


@dataclass(frozen=True)
class CicdRow:
    entity: str
    system: str
    ci: Any  # as written: only true/false are a yes/no
    tests: Any
    auto_deploy: Any
    level: int | None  # None: managed, or none of ci/tests/auto_deploy recorded
    deploys_untested: bool  # auto_deploy = true without tests = true


@dataclass(frozen=True)
class MailRow:
    entity: str
    system: str
    domain: str  # "" when none is recorded
    spf: Any
    dkim: Any
    dmarc: Any
    failing: list[str]  # of spf, dkim, dmarc
    remedies: list[str]  # the actions' remedies for them, in that order


@dataclass(frozen=True)
class SenderItem:
    """A mail-sending item that names the domain the reports are sent from."""

    entity: str
    system: str
    failing: list[str]  # of spf, dkim, dmarc


@dataclass(frozen=True)
class EmailAuthentication:
    sender_domain: str  # `[roles.cto] sender_domain`, "" when not set
    sender_items: list[SenderItem]
    items: list[MailRow]  # at most max_rows
    left_out: int = 0
    conflicts: list[DomainConflict] = dataclass_field(default_factory=list)


@dataclass(frozen=True)
class UxRow:
    entity: str
    system: str
    mobile: Any  # Lighthouse scores as written; None when absent
    desktop: Any
    gaps: list[str]


@dataclass(frozen=True)
class UxGaps:
    items: list[UxRow]  # only the items that carry UX keys; empty: no section
    lighthouse_poor: int
    lighthouse_good: int
    left_out: int = 0


@dataclass(frozen=True)
class RankedAction:
    action: Action
    weight: int  # the risk weight of the failed check
    revenue_at_stake: Decimal  # the entity's monthly revenue, trailing 3 months


@dataclass(frozen=True)
class TopActions:
    """How the report's Actions table (written by execreport after the sections) is ranked:
    the ranking is stated here, the actions are listed once, there."""

    count: int  # all the role's actions
    by_severity: dict[str, int]  # critical/warning/info -> actions
    first: list[RankedAction]  # the critical actions (else the first one): they lead the table
    weights: list[tuple[str, int]]  # (check, risk weight), heaviest first
    due_days: dict[str, Any]  # severity -> days, as configured


@dataclass(frozen=True)
class FigureChange:
    scope: str | None  # the entity's name; None for all entities
    figure: str  # the metric's key
    kind: str  # count, ratio, money or pct
    before: Any
    now: Any
    change: Decimal | None  # now - before; None when either is missing


@dataclass(frozen=True)
class Changes:
    """This report against the previous archived version of it."""

    still_open: int  # actions of the last report raised again
    last_report_actions: int
    no_longer_raised: int
    new: int
    figures: list[FigureChange]  # only the figures that changed


# the key figures "Changes since the last report" compares, and how each is shown
CHANGE_FIGURES: dict[str, str] = {
    "security_checks_failed": "count",
    "security_score": "ratio",
    "stack_monthly_cost": "money",
    "software_spend_last_month": "money",
    "stack_cost_pct_of_revenue": "pct",
}


def figure_changes(
    ctx: Any, metrics: dict[str, Any], actions: list[Any], figures: dict[str, str]
) -> Changes | None:
    """Key figures against `ctx.previous.metrics` and the previous report's actions still
    open (by key); None without a previous report."""
    previous = ctx.previous
    if previous is None:
        return None
    names: dict[str, str | None] = {"consolidated": None, **{e.key: e.name for e in ctx.entities}}
    rows = []
    for scope, label in names.items():
        now, before = metrics.get(scope, {}), (previous.metrics or {}).get(scope, {})
        for key, kind in figures.items():
            old, new = before.get(key), now.get(key)
            if key not in before or _number(old) == _number(new):
                continue
            a, b = _number(old), _number(new)
            delta = None if a is None or b is None else b - a
            rows.append(FigureChange(label, key, kind, old, new, delta))
    old_keys = {a.key for a in previous.actions}
    new_keys = {a.key for a in actions}
    return Changes(
        still_open=len(old_keys & new_keys),
        last_report_actions=len(old_keys),
        no_longer_raised=len(old_keys - new_keys),
        new=len(new_keys - old_keys),
        figures=rows,
    )


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class CTO:
    name = "cto"
    title = "CTO Technology Review"
    priority = 30
    settings_defaults = DEFAULTS  # every key of [roles.cto], checked at load
    template_folder = Path(__file__).parent / "templates"
    template_variables = {
        "security": "SecurityAudit: `checks`, `failed`, `score` (0-1 or None) and `items`, "
        "one per [[stack]] item: `entity`, `system`, `provider`, `monthly_cost`, `checks`, "
        "`passed`, `failing` (check names), most failing first, at most `max_rows`; "
        "`left_out` (items not shown)",
        "cost": "CostAnalysis: `total` and `entities` (CostRow: `entity` (None for all), "
        "`stack_cost`, `revenue_monthly`, `stack_pct_of_revenue`, `spend_monthly`, "
        "`spend_prior_month`, `spend_last_month`, `spend_mom_pct`), `months` (first days of the "
        "trailing 3 months), `window_end`, `categories`, `accounts`, `share_warning_pct`, "
        "`growth_warning_pct`, `untracked_tolerance_pct`",
        "cicd": "Clipped: `rows` (CicdRow: `entity`, `system`, `ci`, `tests`, `auto_deploy` as "
        "written, `level` 0-3, `deploys_untested`; only items that build code), `total`, "
        "`left_out`",
        "mail": 'EmailAuthentication: `sender_domain` ("" when not set), `sender_items` '
        "(`entity`, `system`, `failing`: the items that send from it) and `items`, one per "
        "item with sends_mail = true: `entity`, `system`, `domain`, `spf`, `dkim`, `dmarc`, "
        "`failing`, `remedies` (at most `max_rows`), `left_out`, `conflicts` (`domain`, "
        "`record`: spf or dmarc, `values`: (entity, item, value) triples)",
        "ux": "UxGaps: `items` (`entity`, `system`, `mobile`, `desktop`, `gaps`; empty when no "
        "item has UX keys; at most `max_rows`), `lighthouse_poor`, `lighthouse_good`, "
        "`left_out`",
        "top": "TopActions: `count` (all actions), `by_severity` (severity -> count), `first` "
        "(the critical actions: `action`, `weight`, `revenue_at_stake`), `weights` ((check, "
        "weight) pairs, heaviest first), `due_days` (severity -> days); the actions "
        "themselves are the report's Actions table",
        "changes": "Changes or None (no previous report): `still_open`, `last_report_actions`, "
        "`no_longer_raised`, `new`, `figures` (`scope` (None for all entities), `figure` (the "
        "metric's key), `kind` (count, ratio, money, pct), `before`, `now`, `change`)",
        "pct": "`pct(value)`: a percentage with two decimals, `4.00%`; `n/a` for none",
        "fixed": "`fixed(value)`: a number with two decimals, `0.76`; `n/a` for none",
        "max_rows": "the most rows a table shows (`max_rows`)",
    }

    def build(self, ctx: Any) -> Any:
        from execreport import Action, Finding, Report, Severity, money, render_template

        settings = read_settings(self.name, ctx.settings, DEFAULTS)
        due_days = {**DEFAULTS["due_days"], **settings["due_days"]}
        weights = {k: w for k, (w, _) in CHECKS.items()}
        weights.update({k: int(v) for k, v in settings["check_weights"].items()})
        share_warn = _decimal(settings["cost_share_warning_pct"], "cost_share_warning_pct")
        growth_warn = _decimal(settings["spend_growth_warning_pct"], "spend_growth_warning_pct")
        untracked = _decimal(
            settings["untracked_spend_tolerance_pct"], "untracked_spend_tolerance_pct"
        )
        poor, good = int(settings["lighthouse_poor"]), int(settings["lighthouse_good"])
        sender_domain = str(settings["sender_domain"] or "").strip().lower()

        window = software_spend(ctx.ledger, ctx.as_of, settings)
        months, window_end = window_months(ctx.as_of)
        all_items = [i for e in ctx.entities for i in e.stack]
        exact = {
            "consolidated": cost_figures(
                sum((i.monthly_cost for i in all_items), Decimal(0)), window.get("consolidated")
            )
        }
        metrics: dict[str, dict[str, Any]] = {"consolidated": stack_figures(all_items)}
        for e in ctx.entities:
            metrics[e.key] = stack_figures(e.stack)
            cost = sum((i.monthly_cost for i in e.stack), Decimal(0))
            exact[e.key] = cost_figures(cost, window.get(e.key))
        stacks = {"consolidated": all_items, **{e.key: e.stack for e in ctx.entities}}
        for key, items in stacks.items():
            metrics[key].update(rounded(exact[key]))
            metrics[key].update(practice_figures(items))

        findings: list[Any] = []
        # (rank key, ranked action)
        ranked: list[tuple[tuple[Any, ...], RankedAction]] = []
        audit_rows: list[AuditRow] = []
        cicd_rows: list[CicdRow] = []
        mail_rows: list[MailRow] = []
        ux_rows: list[UxRow] = []
        cost_rows: list[CostRow] = []

        def raise_issue(
            e: Any, item: Any, check: str, sev: Any, message: str, fix: str, topic: str = ""
        ) -> None:
            findings.append(Finding(severity=sev, entity=e.key, message=message))
            action = Action(
                title=f"{e.name} {item.name}: {fix}",
                topic=f"{check}:{item.name}{topic}",  # stable while the remedy text changes
                owner=self.name,
                due=ctx.as_of + timedelta(days=int(due_days[str(sev)])),
                priority={"critical": 1, "warning": 2, "info": 3}[str(sev)],
                entity=e.key,
                severity=sev,
            )
            stake = metrics[e.key]["revenue_monthly_3m"]
            key = (Severity(sev).rank, -weights.get(check, 1), -stake, e.name, item.name, check)
            ranked.append((key, RankedAction(action, weights.get(check, 1), stake)))

        dmarc_failing: dict[tuple[str, str], list[tuple[Any, Any]]] = {}
        for e in ctx.entities:
            where = "entity.toml [[stack]]"
            for item in e.stack:
                provider = item.provider or "the provider"
                label = f"{e.name} {item.name}" + (f" ({item.provider})" if item.provider else "")
                checks = item_checks(item)
                failed = [f for f, passed in checks if not passed]
                audit_rows.append(
                    AuditRow(
                        entity=e.name,
                        system=item.name,
                        provider=item.provider,
                        monthly_cost=item.monthly_cost,
                        checks=len(checks),
                        passed=len(checks) - len(failed),
                        failing=failed,
                    )
                )
                domain = mail_domain(item, e)
                for field in failed:
                    value = getattr(item, field, None)
                    if field == "dmarc" and domain:  # one DMARC record per domain: one action
                        dmarc_failing.setdefault((e.key, domain.lower()), []).append((item, value))
                        continue
                    fix = CHECKS[field][1].format(provider=provider, dmarc=value or "missing")
                    if field == "secrets_in_repo" and value is True:
                        state = "secrets are committed to the repository (secrets_in_repo = true)"
                        sev = Severity.critical
                    elif field == "secrets_in_repo":
                        state = "secrets_in_repo is not recorded as false"
                        fix = (
                            "scan the repository and its history for secrets (gitleaks or "
                            "trufflehog) and record the result as secrets_in_repo"
                        )
                        sev = Severity.warning
                    elif field == "dmarc":
                        state = f"DMARC policy is {value or 'missing'}, not quarantine or reject"
                        sev = Severity.warning
                    elif value is None:
                        state = f"{field} is not recorded (a missing field fails its check)"
                        sev = Severity.warning
                    elif isinstance(value, bool):
                        state = f"{field} is {str(value).lower()}"
                        sev = Severity.warning
                    else:  # "yes", 1: only a TOML true/false counts
                        state = f"{field} is {value!r}, not a TOML true/false"
                        sev = Severity.warning
                    raise_issue(e, item, field, sev, f"{label}: {state} ({where})", fix)

                level = maturity(item)
                ci, tests, deploy = (getattr(item, f, None) for f in ("ci", "tests", "auto_deploy"))
                untested = deploy is True and tests is not True
                if untested:
                    raise_issue(
                        e,
                        item,
                        "auto_deploy_untested",
                        Severity.warning,
                        f"{label}: deploys automatically without automated tests "
                        f"(auto_deploy = true, tests = {str(tests).lower()}; {where})",
                        CHECKS["auto_deploy_untested"][1],
                    )
                if level is not None:
                    cicd_rows.append(CicdRow(e.name, item.name, ci, tests, deploy, level, untested))

                if getattr(item, "sends_mail", None) is True:
                    bad: list[str] = [f for f in ("spf", "dkim", "dmarc") if f in failed]
                    mail_rows.append(
                        MailRow(
                            entity=e.name,
                            system=item.name,
                            domain=_one_line(domain),
                            spf=item.spf,
                            dkim=item.dkim,
                            dmarc=item.dmarc,
                            failing=bad,
                            remedies=[
                                CHECKS[f][1].format(
                                    provider=provider, dmarc=item.dmarc or "missing"
                                )
                                for f in bad
                            ],
                        )
                    )

                extra = item.model_extra or {}
                if any(k in extra for k in UX_KEYS):
                    gaps = extra.get("ux_gaps") or []
                    gaps = [gaps] if isinstance(gaps, str) else list(gaps)
                    mobile = extra.get("lighthouse_mobile")
                    desktop = extra.get("lighthouse_desktop")
                    ux_rows.append(UxRow(e.name, item.name, mobile, desktop, gaps))
                    if isinstance(mobile, int | float) and mobile < good:
                        sev = Severity.warning if mobile < poor else Severity.info
                        band = "poor" if mobile < poor else "needs improvement"
                        raise_issue(
                            e,
                            item,
                            "lighthouse_mobile",
                            sev,
                            f"{label}: Lighthouse mobile score {mobile} is {band} "
                            f"(under {poor if mobile < poor else good}; {where} "
                            "lighthouse_mobile)",
                            CHECKS["lighthouse_mobile"][1],
                        )
                    for gap in gaps:
                        raise_issue(
                            e,
                            item,
                            "ux_gap",
                            Severity.info,
                            f"{label}: UX gap: {gap} ({where} ux_gaps)",
                            f"close the UX gap: {gap}",
                            f":{gap}",
                        )

        # -- email authentication per domain ----------------------------------------------
        by_key = {e.key: e for e in ctx.entities}
        for (key, domain), failing in dmarc_failing.items():
            e = by_key[key]
            item, value = failing[0]
            policies = sorted({str(v or "missing") for _, v in failing})
            systems = ", ".join(i.name for i, _ in failing)
            raise_issue(
                e,
                item,
                "dmarc",
                Severity.warning,
                f"{domain}: DMARC policy is {' / '.join(policies)}, not quarantine or reject "
                f"({e.name} {systems}; entity.toml [[stack]] dmarc)",
                CHECKS["dmarc"][1].format(dmarc="/".join(policies)),
                f":{domain}",
            )
        conflicts = domain_conflicts(ctx.entities)
        names_to_key = {e.name: e for e in ctx.entities}
        for conflict in conflicts:
            e = names_to_key[conflict.values[0][0]]
            item = next(i for i in e.stack if i.name == conflict.values[0][1])
            record = conflict.record.upper()
            listed = "; ".join(
                f"{ent} {system}: {value if value is not None else 'missing'}"
                for ent, system, value in conflict.values
            )
            raise_issue(
                e,
                item,
                f"conflict_{conflict.record}",
                Severity.warning,
                f"{conflict.domain}: contradictory {record} values ({listed}); a domain "
                f"publishes one {record} record, so at most one of them is true "
                f"(entity.toml [[stack]] {conflict.record})",
                f"look up the {record} record of {conflict.domain} in DNS, publish the one "
                f"policy it needs and record that value on every item that sends for it",
                f":{conflict.domain}",
            )

        # -- cost analysis -------------------------------------------------------------
        for e in [None, *ctx.entities]:
            key = e.key if e else "consolidated"
            f = metrics[key]
            stack_cost = metrics[key]["stack_monthly_cost"]
            cost_rows.append(
                CostRow(
                    entity=e.name if e else None,
                    stack_cost=stack_cost,
                    revenue_monthly=f["revenue_monthly_3m"],
                    stack_pct_of_revenue=f["stack_cost_pct_of_revenue"],
                    spend_monthly=f["software_spend_monthly_3m"],
                    spend_prior_month=f["software_spend_prior_month"],
                    spend_last_month=f["software_spend_last_month"],
                    spend_mom_pct=f["software_spend_mom_pct"],
                )
            )
            if e is None:
                continue
            share = f["stack_cost_pct_of_revenue"]
            if share is not None and share > share_warn:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} stack costs {money(stack_cost)}/month, "
                        f"{_pct(share)} of its monthly revenue of "
                        f"{money(f['revenue_monthly_3m'])} (over {share_warn}%; entity.toml "
                        "[[stack]] monthly_cost, ledger.csv 4xxx)",
                    )
                )
            elif share is None and stack_cost > 0:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} stack costs {money(stack_cost)}/month with no "
                        "revenue in the trailing 3 months (ledger.csv 4xxx)",
                    )
                )
            growth = f["software_spend_mom_pct"]
            if growth is not None and growth > growth_warn:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} hosting/software spend rose {_pct(growth)} from "
                        f"{money(f['software_spend_prior_month'])} in "
                        f"{months[1]:%B %Y} to {money(f['software_spend_last_month'])} in "
                        f"{months[2]:%B %Y} (over {growth_warn}%; ledger.csv)",
                    )
                )
            avg = f["software_spend_monthly_3m"]
            if avg > stack_cost * (1 + untracked / 100):
                findings.append(
                    Finding(
                        severity=Severity.info,
                        entity=e.key,
                        message=f"{e.name} ledger hosting/software spend averages "
                        f"{money(avg)}/month, {money(avg - stack_cost)} more than the "
                        f"{money(stack_cost)} the [[stack]] lists: services missing from "
                        "the stack inventory (ledger.csv, entity.toml)",
                    )
                )

        ranked.sort(key=lambda r: r[0])
        actions = [r.action for _, r in ranked]
        max_rows = int(settings["max_rows"])
        audit_rows.sort(key=lambda r: -len(r.failing))  # stable: stack order among equals
        audit = clip(audit_rows, max_rows)
        mail_clip, ux_clip = clip(mail_rows, max_rows), clip(ux_rows, max_rows)
        c = metrics["consolidated"]
        variables = {
            "security": SecurityAudit(
                checks=c["security_checks"],
                failed=c["security_checks_failed"],
                score=c["security_score"],
                items=audit.rows,
                left_out=audit.left_out,
            ),
            "cost": CostAnalysis(
                total=cost_rows[0],
                entities=cost_rows[1:],
                months=months,
                window_end=window_end,
                categories=[str(x) for x in settings["software_categories"]],
                accounts=[str(x) for x in settings["software_accounts"]],
                share_warning_pct=share_warn,
                growth_warning_pct=growth_warn,
                untracked_tolerance_pct=untracked,
            ),
            "cicd": clip(cicd_rows, max_rows),
            "mail": EmailAuthentication(
                sender_domain=sender_domain,
                sender_items=sender_items(sender_domain, ctx.entities),
                items=mail_clip.rows,
                left_out=mail_clip.left_out,
                conflicts=conflicts,
            ),
            "ux": UxGaps(ux_clip.rows, poor, good, ux_clip.left_out),
            "top": TopActions(
                count=len(actions),
                by_severity={str(s): sum(1 for a in actions if a.severity == s) for s in Severity},
                first=(
                    [r for _, r in ranked if r.action.severity == Severity.critical]
                    or [r for _, r in ranked[:1]]
                )[:max_rows],
                weights=sorted(weights.items(), key=lambda x: -x[1]),
                due_days={str(k): v for k, v in due_days.items()},
            ),
            "changes": figure_changes(ctx, metrics, actions, CHANGE_FIGURES),
            "pct": _pct,
            "fixed": _fixed,
            "max_rows": max_rows,
        }
        out = render_template(ctx, self, variables)
        return Report(
            role=self.name,
            title=self.title,
            subject=out.subject,
            sections=out.sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


def sender_items(sender_domain: str, entities: list[Any]) -> list[SenderItem]:
    """The mail-sending items whose domain is the one the reports are sent from."""
    if not sender_domain:
        return []
    return [
        SenderItem(
            entity=e.name,
            system=i.name,
            failing=[f for f, p in item_checks(i) if f in ("spf", "dkim", "dmarc") and not p],
        )
        for e in entities
        for i in e.stack
        if getattr(i, "sends_mail", None) is True
        and sender_domain
        in [
            str(getattr(i, "domain", "") or "").lower(),
            *(a.name.lower() for a in e.assets if a.kind == "domain"),
        ]
    ]


@hookimpl
def register_roles(register: Any) -> None:
    register(CTO())
