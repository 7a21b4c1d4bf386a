"""The "Delivery health" section: how many recipients of each report's last delivered
version confirmed delivery, bounced or complained, from the SES events in the archive.

Its words live in report_templates/delivery_health.md.j2. It compares with what went out
before (`since_previous`): shown, but alone it never makes a new version.
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Any

TEMPLATE = "delivery_health.md.j2"
FOLDER = Path(__file__).parent / "report_templates"


def figures(archive: Any, roles: list[str]) -> dict[str, Any] | None:
    """Per role, the counts for its last delivered version; None when no event was ever
    recorded (events are not configured)."""
    if archive is None or not getattr(archive, "has_events", False):
        return None
    if archive.db.execute("SELECT 1 FROM recipient_states LIMIT 1").fetchone() is None:
        return None
    keys = ("recipients", "delivered", "bounced", "complained", "other", "waiting")
    rows = []
    for role in roles:
        v = archive.last_sent(role)
        if v is None:
            continue
        to: list[str] = []
        for d in archive.deliveries(report_id=v.id):
            if d.status == "sent":
                to += [(parseaddr(a)[1] or a).lower() for a in d.recipients]
        states = {s.recipient: s.state for s in archive.recipient_states(v.id)}
        row: dict[str, Any] = {"role": role, "version": v.version}
        row.update(dict.fromkeys(keys, 0))
        for address in dict.fromkeys(to):
            row["recipients"] += 1
            state = states.get(address)
            if state in ("delivered", "bounced", "complained"):
                row[state] += 1
            elif state is None:
                row["waiting"] += 1
            else:
                row["other"] += 1
        rows.append(row)
    if not rows:
        return None
    totals = {k: sum(r[k] for r in rows) for k in keys}
    return {"rows": rows, "totals": totals, "suppressed": len(archive.suppressions())}


def delivery_health_section(archive: Any, roles: list[str]) -> Any:
    """The section, or None when there is nothing to say."""
    from .templates import render_file

    data = figures(archive, roles)
    if data is None:
        return None
    rendered = render_file(TEMPLATE, data, folders=[FOLDER])
    return rendered.sections[0] if rendered.sections else None
