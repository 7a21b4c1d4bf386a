"""CTO: security audit per stack, cost, CI/CD maturity, email authentication, UX gaps."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl, read_settings

# `[roles.cto]` keys and their defaults (docs/roles.md, "CTO")
DEFAULTS: dict[str, Any] = {
    "software_accounts": ["6200"],
    "software_categories": ["hosting", "software"],
    "cost_share_warning_pct": 10,  # stack cost above this % of monthly revenue: a warning
    "spend_growth_warning_pct": 20,  # hosting/software spend up more than this % in a month
    "untracked_spend_tolerance_pct": 10,  # ledger spend above the [[stack]] cost by more: info
    "lighthouse_poor": 50,  # Lighthouse's own bands: 0-49 poor, 50-89 needs work, 90+ good
    "lighthouse_good": 90,
    "top_actions": 10,
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
    "ux_gap": (2, "close the gap"),
}
BASE_TRUE = ("mfa", "tls", "hsts", "backups", "dependency_updates", "logging")
MAIL_TRUE = ("spf", "dkim")
DMARC_PASS = ("quarantine", "reject")
MATURITY_STEPS = (
    "run a CI build on every push",
    "run the automated tests in CI",
    "deploy automatically when CI passes",
    "none: keep the pipeline green",
)
UX_KEYS = ("ux_gaps", "lighthouse_mobile", "lighthouse_desktop")


def item_checks(item: Any) -> list[tuple[str, bool]]:
    """Each METRICS.md check of one stack item: (field, passed). Only a TOML true/false
    counts: a missing field or any other value fails."""
    out = [(f, getattr(item, f, None) is True) for f in BASE_TRUE]
    out.append(("secrets_in_repo", getattr(item, "secrets_in_repo", None) is False))
    if getattr(item, "sends_mail", None) is True:
        out += [(f, getattr(item, f, None) is True) for f in MAIL_TRUE]
        out.append(("dmarc", getattr(item, "dmarc", None) in DMARC_PASS))
    return out


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


def maturity(item: Any) -> int | None:
    """CI/CD level 0-3: 1 CI runs, 2 CI runs the tests, 3 a green CI deploys. None when the
    item is a managed service (`managed = true`) or records none of ci, tests, auto_deploy."""
    fields = [getattr(item, f, None) for f in ("ci", "tests", "auto_deploy")]
    if getattr(item, "managed", None) is True or all(v is None for v in fields):
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


def _yes_no(value: Any) -> str:
    return "yes" if value is True else ("no" if value is False else "not recorded")


def _pct(value: Any) -> str:
    """A percentage metric (already rounded to two places) as printed."""
    return "n/a" if value is None else f"{Decimal(str(value)):.2f}%"


class CTO:
    name = "cto"
    title = "CTO Technology Review"
    priority = 30
    settings_defaults = DEFAULTS  # every key of [roles.cto], checked at load

    def build(self, ctx: Any) -> Any:
        from execreport import (
            Action,
            Finding,
            Report,
            Section,
            Severity,
            changes_section,
            md_escape,
            money,
        )

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
        # (rank key, action, risk weight, revenue at stake)
        ranked: list[tuple[tuple[Any, ...], Any, int, Decimal]] = []
        audit_rows, cicd_rows, mail_rows, ux_rows, cost_rows = [], [], [], [], []

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
            ranked.append((key, action, weights.get(check, 1), stake))

        for e in ctx.entities:
            domains = [a.name for a in e.assets if a.kind == "domain"]
            where = "entity.toml [[stack]]"
            for item in e.stack:
                provider = item.provider or "the provider"
                label = f"{e.name} {item.name}" + (f" ({item.provider})" if item.provider else "")
                checks = item_checks(item)
                failed = [f for f, passed in checks if not passed]
                audit_rows.append(
                    f"| {md_escape(e.name)} | {md_escape(item.name)} | "
                    f"{md_escape(item.provider)} | {money(item.monthly_cost)} | "
                    f"{len(checks) - len(failed)}/{len(checks)} | "
                    f"{', '.join(failed) or 'none'} |"
                )
                for field in failed:
                    value = getattr(item, field, None)
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
                next_step = "n/a" if level is None else MATURITY_STEPS[level]
                if deploy is True and tests is not True:
                    next_step = "add tests: it deploys automatically without them"
                    raise_issue(
                        e,
                        item,
                        "auto_deploy_untested",
                        Severity.warning,
                        f"{label}: deploys automatically without automated tests "
                        f"(auto_deploy = true, tests = {str(tests).lower()}; {where})",
                        CHECKS["auto_deploy_untested"][1],
                    )
                cicd_rows.append(
                    f"| {md_escape(e.name)} | {md_escape(item.name)} | {_yes_no(ci)} | "
                    f"{_yes_no(tests)} | {_yes_no(deploy)} | "
                    f"{'n/a' if level is None else level} | {next_step} |"
                )

                if getattr(item, "sends_mail", None) is True:
                    domain = str(getattr(item, "domain", "") or ", ".join(domains) or "")
                    bad = [f for f in ("spf", "dkim", "dmarc") if f in failed]
                    ok = "authenticated" if not bad else "fails " + ", ".join(bad)
                    steps = "; ".join(
                        CHECKS[f][1].format(provider=provider, dmarc=item.dmarc or "missing")
                        for f in bad
                    )
                    mail_rows.append(
                        f"| {md_escape(e.name)} | {md_escape(item.name)} | "
                        f"{md_escape(domain) or 'not recorded'} | {_yes_no(item.spf)} | "
                        f"{_yes_no(item.dkim)} | {md_escape(item.dmarc or 'missing')} | {ok} | "
                        f"{md_escape(steps) or 'none'} |"
                    )

                extra = item.model_extra or {}
                if any(k in extra for k in UX_KEYS):
                    gaps = extra.get("ux_gaps") or []
                    gaps = [gaps] if isinstance(gaps, str) else list(gaps)
                    mobile = extra.get("lighthouse_mobile")
                    desktop = extra.get("lighthouse_desktop")
                    ux_rows.append(
                        f"| {md_escape(e.name)} | {md_escape(item.name)} | "
                        f"{'' if mobile is None else md_escape(mobile)} | "
                        f"{'' if desktop is None else md_escape(desktop)} | "
                        f"{'; '.join(md_escape(g) for g in gaps) or 'none named'} |"
                    )
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

        # -- cost analysis -------------------------------------------------------------
        for e in [None, *ctx.entities]:
            key = e.key if e else "consolidated"
            f = metrics[key]
            stack_cost = metrics[key]["stack_monthly_cost"]
            cost_rows.append(
                f"| {md_escape(e.name) if e else '**All entities**'} | {money(stack_cost)} | "
                f"{money(f['revenue_monthly_3m'])} | {_pct(f['stack_cost_pct_of_revenue'])} | "
                f"{money(f['software_spend_monthly_3m'])} | "
                f"{money(f['software_spend_prior_month'])} | "
                f"{money(f['software_spend_last_month'])} | "
                f"{_pct(f['software_spend_mom_pct'])} |"
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
        actions = [r[1] for r in ranked]
        top = int(settings["top_actions"])
        top_rows = [
            f"| {i} | {md_escape(a.title)} | {a.severity} | {w} | {money(stake)} | "
            f"{a.due.isoformat()} |"
            for i, (_, a, w, stake) in enumerate(ranked[:top], 1)
        ]
        c = metrics["consolidated"]
        score = "n/a" if c["security_score"] is None else f"{c['security_score']:.2f}"
        weight_text = ", ".join(f"{k} {w}" for k, w in sorted(weights.items(), key=lambda x: -x[1]))
        sections = [
            Section(
                heading="Security audit by stack",
                body="\n".join(
                    [
                        f"{c['security_checks'] - c['security_checks_failed']} of "
                        f"{c['security_checks']} checks pass (score {score}); "
                        f"{c['security_checks_failed']} fail, each an action below.",
                        "",
                        "| Entity | System | Provider | Monthly cost | Checks passed | Failing |",
                        "|---|---|---|---|---|---|",
                        *(audit_rows or ["| none | no [[stack]] items | | | | |"]),
                        "",
                        "_How this was computed: each [[stack]] item of entity.toml is checked "
                        "for mfa, tls, hsts, backups, dependency_updates and logging being true "
                        "and secrets_in_repo being false; an item with sends_mail = true also for "
                        "spf and dkim being true and dmarc being quarantine or reject; a missing "
                        "field fails; score = passed / checks (METRICS.md, cto). Secrets in a "
                        "repository are critical, every other failure a warning._",
                    ]
                ),
            ),
            Section(
                heading="Cost analysis",
                body="\n".join(
                    [
                        f"The stacks cost {money(c['stack_monthly_cost'])}/month, "
                        f"{_pct(c['stack_cost_pct_of_revenue'])} of the monthly revenue of "
                        f"{money(c['revenue_monthly_3m'])}; hosting/software spend in the "
                        f"ledger went from {money(c['software_spend_prior_month'])} in "
                        f"{months[1]:%B %Y} to {money(c['software_spend_last_month'])} in "
                        f"{months[2]:%B %Y} ({_pct(c['software_spend_mom_pct'])}).",
                        "",
                        "| Entity | Stack/mo | Revenue/mo | Stack % of revenue | "
                        "Ledger hosting+software/mo | "
                        f"{months[1]:%b %Y} | {months[2]:%b %Y} | Month over month |",
                        "|---|---|---|---|---|---|---|---|",
                        *cost_rows,
                        "",
                        "_How this was computed: stack/mo = sum of [[stack]] monthly_cost; "
                        "revenue/mo = revenue (4xxx rows of ledger.csv) over the trailing 3 "
                        f"months {months[0].isoformat()} to {window_end.isoformat()} divided by 3; "
                        "hosting+software spend = minus the sum of the ledger rows whose "
                        f"category is {' or '.join(settings['software_categories'])} or whose "
                        f"account is {' or '.join(map(str, settings['software_accounts']))} "
                        "(software_categories, software_accounts); month over month = last "
                        "month / the month before - 1. Warnings: stack over "
                        f"{share_warn}% of revenue (cost_share_warning_pct), spend up more than "
                        f"{growth_warn}% (spend_growth_warning_pct); info when ledger spend "
                        f"exceeds the stack by more than {untracked}% "
                        "(untracked_spend_tolerance_pct)._",
                    ]
                ),
            ),
            Section(
                heading="CI/CD maturity",
                body="\n".join(
                    [
                        "| Entity | System | CI | Tests | Auto deploy | Level | Next step |",
                        "|---|---|---|---|---|---|---|",
                        *(cicd_rows or ["| none | no [[stack]] items | | | | | |"]),
                        "",
                        "_How this was computed: from the ci, tests and auto_deploy fields of "
                        "each [[stack]] item: level 0 no CI, 1 CI runs, 2 CI runs the tests, 3 a "
                        "green CI deploys automatically (a step counts only when the ones "
                        "before it are true); n/a for `managed = true` items and items that "
                        "record none of the three. Auto deploy without tests is a warning._",
                    ]
                ),
            ),
            Section(
                heading="Email authentication (SPF, DKIM, DMARC)",
                body="\n".join(
                    [
                        *sender_line(sender_domain, ctx.entities),
                        "| Entity | Sends mail | Domain | SPF | DKIM | DMARC | State | Next step |",
                        "|---|---|---|---|---|---|---|---|",
                        *(mail_rows or ["| none | no item has sends_mail = true | | | | | | |"]),
                        "",
                        "_How this was computed: the [[stack]] items with sends_mail = true; "
                        "authenticated means spf and dkim true and dmarc quarantine or reject "
                        "(METRICS.md, cto). Domain: the item's `domain` key, else the entity's "
                        "[[assets]] of kind domain; the reports' own domain is "
                        "`[roles.cto] sender_domain`._",
                    ]
                ),
            ),
        ]
        if ux_rows:
            sections.append(
                Section(
                    heading="UX gaps",
                    body="\n".join(
                        [
                            "| Entity | System | Lighthouse mobile | Lighthouse desktop | "
                            "Gaps named |",
                            "|---|---|---|---|---|",
                            *ux_rows,
                            "",
                            "_How this was computed: the ux_gaps, lighthouse_mobile and "
                            "lighthouse_desktop keys of [[stack]] items, shown where present. "
                            f"A mobile score under {poor} (lighthouse_poor) is a warning, under "
                            f"{good} (lighthouse_good) info; each named gap is an action._",
                        ]
                    ),
                )
            )
        sections.append(
            Section(
                heading="Top engineering actions",
                body="\n".join(
                    [
                        f"{len(actions)} actions; the first {min(top, len(actions))}:",
                        "",
                        "| # | Action | Severity | Risk weight | Revenue at stake/mo | Due |",
                        "|---|---|---|---|---|---|",
                        *(top_rows or ["| | none | | | | |"]),
                        "",
                        "_How this was computed: ranked by severity, then by the cost of "
                        f"inaction: the risk weight of the failed check ({weight_text}; "
                        "check_weights), then the entity's monthly revenue (trailing 3 months) "
                        f"that depends on it; due in {due_days['critical']} days when critical, "
                        f"{due_days['warning']} when a warning, {due_days['info']} otherwise "
                        f"(due_days); top_actions = {top}._",
                    ]
                ),
            )
        )
        change = changes_section(
            ctx,
            metrics,
            actions,
            {
                "security_checks_failed": ("failed security checks", "count"),
                "security_score": ("security score", "ratio"),
                "stack_monthly_cost": ("stack cost/month", "money"),
                "software_spend_last_month": ("hosting+software spend, last month", "money"),
                "stack_cost_pct_of_revenue": ("stack % of revenue", "pct"),
            },
        )
        if change is not None:
            sections.append(change)
        return Report(
            role=self.name,
            title=self.title,
            subject=f"CTO Technology Review: {ctx.period} security, cost and CI/CD",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


def sender_line(sender_domain: str, entities: list[Any]) -> list[str]:
    """Where the reports themselves are sent from, when `sender_domain` names it."""
    from execreport import md_escape

    if not sender_domain:
        return []
    hits = [
        (e, i)
        for e in entities
        for i in e.stack
        if getattr(i, "sends_mail", None) is True
        and sender_domain
        in [
            str(getattr(i, "domain", "") or "").lower(),
            *(a.name.lower() for a in e.assets if a.kind == "domain"),
        ]
    ]
    if not hits:
        return [
            f"The reports are sent from {md_escape(sender_domain)}; no [[stack]] item that "
            "sends mail names it, so its SPF/DKIM/DMARC state is not on record.",
            "",
        ]
    states = []
    for e, i in hits:
        bad = [f for f, p in item_checks(i) if f in ("spf", "dkim", "dmarc") and not p]
        states.append(
            f"{md_escape(e.name)} {md_escape(i.name)}: "
            + ("authenticated" if not bad else "fails " + ", ".join(bad))
        )
    return [
        f"The reports are sent from {md_escape(sender_domain)}: {'; '.join(states)}.",
        "",
    ]


@hookimpl
def register_roles(register: Any) -> None:
    register(CTO())
