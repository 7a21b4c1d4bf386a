"""CMO: channel visibility, marketplace sequence, email plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from execreport import hookimpl

LIVE = ("claimed", "optimised")


def channel_figures(entities: list[Any]) -> dict[str, Any]:
    channels = [c for e in entities for c in e.channels]
    lists = [
        e.audience.get("email_list") for e in entities if e.audience.get("email_list") is not None
    ]
    return {
        "channels_absent": sum(1 for c in channels if c.status == "absent"),
        "channels_live": sum(1 for c in channels if c.status in LIVE),
        "email_list": sum(int(n) for n in lists) if lists else None,
    }


class CMO:
    name = "cmo"
    title = "CMO Marketing Review"
    priority = 40

    def build(self, ctx: Any) -> Any:
        from execreport import Action, Finding, Report, Section, Severity, md_escape

        metrics = {"consolidated": channel_figures(ctx.entities)}
        rows, findings, actions = [], [], []
        for e in ctx.entities:
            metrics[e.key] = channel_figures([e])
            for c in e.channels:
                commission = "" if c.commission is None else f"{c.commission * 100:.1f}%"
                rating = "" if c.rating is None else f"{c.rating:.1f}"
                reviews = "" if c.reviews is None else str(c.reviews)
                rows.append(
                    f"| {md_escape(e.name)} | {md_escape(c.name)} | {c.status} | "
                    f"{commission} | {reviews} | {rating} |"
                )
                if c.status == "absent":
                    findings.append(
                        Finding(
                            severity=Severity.info,
                            entity=e.key,
                            message=f"{e.name} is absent from {c.name}",
                        )
                    )
                    actions.append(
                        Action(
                            title=f"Claim {e.name}'s listing on {c.name}",
                            owner="cmo",
                            due=ctx.as_of + timedelta(days=30),
                            priority=3,
                            entity=e.key,
                        )
                    )
        c = metrics["consolidated"]
        email = "not given" if c["email_list"] is None else f"{c['email_list']:,} contacts"
        sections = [
            Section(
                heading="Channel visibility",
                body="\n".join(
                    [
                        f"{c['channels_live']} channels live, {c['channels_absent']} absent; email "
                        f"list {email}.",
                        "",
                        "| Entity | Channel | Status | Commission | Reviews | Rating |",
                        "|---|---|---|---|---|---|",
                        *rows,
                        "",
                        "_How this was computed: the [[channels]] and [audience] tables of each "
                        "entity.toml; live means claimed or optimised (METRICS.md, cmo)._",
                    ]
                ),
            ),
        ]
        return Report(
            role=self.name,
            title=self.title,
            subject=f"CMO Marketing Review: {ctx.period} channels and email plan",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(CMO())
