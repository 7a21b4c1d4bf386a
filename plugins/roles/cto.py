"""CTO: security audit per stack, cost, CI/CD maturity, email authentication."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl

# (field, wanted value, what a failure means)
BASE_CHECKS = (
    ("mfa", True, "turn on multi-factor authentication"),
    ("tls", True, "serve over TLS"),
    ("hsts", True, "send an HSTS header"),
    ("backups", True, "set up and test backups"),
    ("dependency_updates", True, "automate dependency updates"),
    ("logging", True, "turn on logging"),
    ("secrets_in_repo", False, "remove secrets from the repository and rotate them"),
)
MAIL_CHECKS = (
    ("spf", True, "publish an SPF record"),
    ("dkim", True, "sign mail with DKIM"),
)


def item_checks(item: Any) -> list[tuple[str, bool, str]]:
    """Each METRICS.md check of one stack item: (field, passed, remedy)."""
    out = []
    for field, wanted, remedy in BASE_CHECKS:
        value = getattr(item, field, None)
        out.append((field, value is not None and value is wanted, remedy))
    if item.sends_mail is True:
        for field, wanted, remedy in MAIL_CHECKS:
            value = getattr(item, field, None)
            out.append((field, value is not None and value is wanted, remedy))
        dmarc = (item.dmarc or "").strip().lower()
        out.append(
            ("dmarc", dmarc in ("quarantine", "reject"), "set DMARC to quarantine or reject")
        )
    return out


def stack_figures(items: list[Any]) -> dict[str, Any]:
    from execreport import to_money, to_ratio

    checks = [c for item in items for c in item_checks(item)]
    failed = sum(1 for c in checks if not c[1])
    cost = sum((i.monthly_cost for i in items), Decimal(0))
    score = (Decimal(len(checks) - failed) / len(checks)) if checks else None
    return {
        "stack_monthly_cost": to_money(cost),
        "security_checks": len(checks),
        "security_checks_failed": failed,
        "security_score": to_ratio(score) if items else None,
    }


class CTO:
    name = "cto"
    title = "CTO Technology Review"
    priority = 30

    def build(self, ctx: Any) -> Any:
        from execreport import Action, Finding, Report, Section, Severity, md_escape, money

        metrics = {"consolidated": stack_figures([i for e in ctx.entities for i in e.stack])}
        findings, actions, rows, cicd = [], [], [], []
        for e in ctx.entities:
            metrics[e.key] = stack_figures(e.stack)
            for item in e.stack:
                checks = item_checks(item)
                failed = [c for c in checks if not c[1]]
                rows.append(
                    f"| {md_escape(e.name)} | {md_escape(item.name)} | "
                    f"{md_escape(item.provider)} | {money(item.monthly_cost)} | "
                    f"{len(checks) - len(failed)}/{len(checks)} | "
                    f"{', '.join(c[0] for c in failed) or 'none'} |"
                )
                flags = [("ci", item.ci), ("tests", item.tests), ("auto_deploy", item.auto_deploy)]
                cicd.append(
                    f"| {md_escape(e.name)} | {md_escape(item.name)} | "
                    + " | ".join("yes" if v else "no" for _, v in flags)
                    + " |"
                )
                for field, _, remedy in failed:
                    critical = field == "secrets_in_repo"
                    sev = Severity.critical if critical else Severity.warning
                    findings.append(
                        Finding(
                            severity=sev,
                            entity=e.key,
                            message=(
                                f"{e.name} {item.name}: secrets are committed to the repository"
                                if critical
                                else f"{e.name} {item.name}: {field} check fails"
                            ),
                        )
                    )
                    actions.append(
                        Action(
                            title=f"{item.name}: {remedy}",
                            owner="cto",
                            due=ctx.as_of + timedelta(days=7 if critical else 30),
                            priority=1 if critical else 3,
                            entity=e.key,
                            severity=sev,
                        )
                    )
        c = metrics["consolidated"]
        score = "n/a" if c["security_score"] is None else f"{c['security_score']:.2f}"
        sections = [
            Section(
                heading="Security audit by stack",
                body="\n".join(
                    [
                        f"{c['security_checks'] - c['security_checks_failed']} of "
                        f"{c['security_checks']} checks pass (score {score}); monthly stack cost "
                        f"{money(c['stack_monthly_cost'])}.",
                        "",
                        "| Entity | System | Provider | Monthly cost | Checks passed | Failing |",
                        "|---|---|---|---|---|---|",
                        *rows,
                        "",
                        "_How this was computed: each [[stack]] item is checked for mfa, tls, hsts, "
                        "backups, dependency_updates and logging on and secrets_in_repo off; items that "
                        "send mail also for spf, dkim and DMARC quarantine/reject; a missing field fails "
                        "(METRICS.md, cto)._",
                    ]
                ),
            ),
            Section(
                heading="CI/CD maturity",
                body="\n".join(
                    [
                        "| Entity | System | CI | Tests | Auto deploy |",
                        "|---|---|---|---|---|",
                        *cicd,
                        "",
                        "_How this was computed: the ci, tests and auto_deploy fields of each "
                        "[[stack]] item._",
                    ]
                ),
            ),
        ]
        return Report(
            role=self.name,
            title=self.title,
            subject=f"CTO Technology Review: {ctx.period} security, cost and CI/CD",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(CTO())
