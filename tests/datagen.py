"""Random but valid execreport data sets (DESIGN.md "Entity data folder").

`make_dataset(root, seed)` writes one folder per entity and an `execreport.toml` at `root`
and returns the config's path. The same seed always gives the same files.

Every entity gets the awkward rows an audit must catch: refunds, revenue booked before its
service date, balance-sheet rows, accounts that are not four digits, odd category spelling,
exact duplicates, near duplicates 1-3 days apart, counterparties spelled with other case and
spacing, outliers and missing receipts. The entity's index picks its profile:

- 0 `burning`: costs exceed revenue every month (runway defined; 0 when cash is gone)
- 1 `profitable`: revenue exceeds costs every month (not burning cash: runway null)
- 2 `no_revenue`: no positive revenue after 2024-06 (cm_ratio null in every window tested)
- 3 `negative_margin`: cogs exceed revenue every month (cm_ratio < 0: break-even null)
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

START = date(2024, 1, 1)
END = date(2025, 6, 30)
AS_OF = date(2025, 3, 31)
PROFILES = ("burning", "profitable", "no_revenue", "negative_margin")
ENTITY_KEYS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
KINDS = ("charter", "junk_removal", "software", "other")
LEDGER_COLUMNS = [
    "date",
    "amount",
    "account",
    "category",
    "counterparty",
    "memo",
    "service_date",
    "receipt",
]

# category spellings, account, amount range, counterparties
EXPENSES = [
    (
        ["Travel", "travel", "TRAVEL ", " Travel"],
        "6400",
        (40, 900),
        ["Delta Air", "Hertz", "Marriott Hotels"],
    ),
    ([" meals ", "Meals", "meals"], "6410", (8, 260), ["Blue Bottle", "Chipotle", "Harbor Grill"]),
    (["Entertainment"], "6420", (50, 600), ["Padres Tickets", "Comedy Store"]),
    (["Gifts", "gifts"], "6430", (20, 300), ["Edible Arrangements", "Amazon"]),
    (["Vehicle", "vehicle "], "6500", (30, 400), ["Shell", "Jiffy Lube", "Chevron"]),
    (["Software"], "6100", (20, 120), ["GitHub", "Google Workspace", "Slack"]),
    (["Marketing"], "6200", (100, 1500), ["Meta Ads", "Google Ads"]),
    (["Insurance"], "7200", (300, 900), ["Geico", "State Farm"]),
    (
        ["Misc", "", "Other", "uncategorized", "Ask My Accountant", "MISCELLANEOUS", "misc "],
        "6900",
        (5, 400),
        ["Cash", "Venmo", "Unknown Vendor"],
    ),
]
COGS = [
    (["Supplies", "supplies"], "5000", (50, 1200), ["Home Depot", "West Marine", "Uline"]),
    (["Contractors"], "5100", (200, 2500), ["Jose Ramirez", "Crew Services LLC"]),
    (["Hosting"], "5200", (20, 400), ["AWS", "Cloudflare"]),
]
REVENUE = [
    (["Sales", "sales"], "4000", (60, 1800), ["Walk-in", "Stripe", "Square"]),
    (["Bookings"], "4100", (200, 2500), ["GetMyBoat", "Direct Booking", "Airbnb Experiences"]),
]
BALANCE = [
    (["Transfer"], "1200", ["Chase Savings"]),
    (["Loan"], "2100", ["SBA Loan"]),
    (["Owner contribution", "Owner draw"], "3000", ["Owner"]),
]
INVALID_ACCOUNTS = ["61O0", "", "610", "61000", "6l00", "abcd"]
MEMOS = ["", "", "monthly", "see invoice", 'per "contract", net 30', "paid, thanks", "n/a"]


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _amount(rng: random.Random, low: float, high: float) -> Decimal:
    return _money(round(rng.uniform(low, high), 2))


def _spell(rng: random.Random, name: str) -> str:
    """The same counterparty as people type it: other case, extra spaces inside or around."""
    choice = rng.random()
    if choice < 0.55:
        return name
    if choice < 0.7:
        name = name.lower()
    elif choice < 0.8:
        name = name.upper()
    if rng.random() < 0.5:
        name = name.replace(" ", "  ", 1) if " " in name else name
    if rng.random() < 0.4:
        name = " " + name + "  "
    return name


def _receipt(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.55:
        return f"receipts/{rng.randrange(10**6):06d}.pdf"
    if choice < 0.9:
        return ""
    return "  "


def _month_starts() -> list[date]:
    months, day = [], START
    while day <= END:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def _month_day(rng: random.Random, month: date) -> date:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return month + timedelta(days=rng.randrange((nxt - month).days))


class _Ledger:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.rows: list[dict[str, str]] = []

    def add(self, day, amount, account, category, counterparty, service_date=None, receipt=""):
        self.rows.append(
            {
                "date": day.isoformat(),
                "amount": f"{amount:.2f}",
                "account": account,
                "category": category,
                "counterparty": counterparty,
                "memo": self.rng.choice(MEMOS),
                "service_date": service_date.isoformat() if service_date else "",
                "receipt": receipt,
            }
        )
        return self.rows[-1]

    def expense(self, day, table, scale=1.0):
        rng = self.rng
        spellings, account, (low, high), parties = rng.choice(table)
        amount = -_amount(rng, low * scale, high * scale)
        return self.add(
            day,
            amount,
            account,
            rng.choice(spellings),
            _spell(rng, rng.choice(parties)),
            receipt=_receipt(rng),
        )

    def revenue(self, day, low_scale=1.0):
        rng = self.rng
        spellings, account, (low, high), parties = rng.choice(REVENUE)
        service = None
        pick = rng.random()
        if pick < 0.3:
            service = day + timedelta(days=rng.randrange(1, 150))
        elif pick < 0.4:
            service = day - timedelta(days=rng.randrange(0, 20))
        return self.add(
            day,
            _amount(rng, low * low_scale, high * low_scale),
            account,
            rng.choice(spellings),
            _spell(rng, rng.choice(parties)),
            service_date=service,
        )


def _monthly_totals(rows, month: date) -> dict[str, Decimal]:
    out = {"revenue": Decimal(0), "cogs": Decimal(0), "opex": Decimal(0)}
    prefix = month.isoformat()[:7]
    for row in rows:
        account = row["account"]
        if not row["date"].startswith(prefix) or len(account) != 4 or not account.isdigit():
            continue
        amount = Decimal(row["amount"])
        if account[0] == "4":
            out["revenue"] += amount
        elif account[0] == "5":
            out["cogs"] -= amount
        elif account[0] in "67":
            out["opex"] -= amount
    return out


def make_ledger(rng: random.Random, profile: str, n_rows: int, shared: list[dict]) -> list[dict]:
    """About `n_rows` ledger rows for one entity of the given profile."""
    led = _Ledger(rng)
    months = _month_starts()
    # the rent, profile and special rows below add about 2 per month plus 25
    base = max(n_rows - 2 * len(months) - 25, len(months))

    for _ in range(base):
        month = rng.choice(months)
        day = _month_day(rng, month)
        kind = rng.random()
        if profile == "no_revenue" and month >= date(2024, 7, 1) and kind < 0.3:
            # only refunds of old sales from here on
            led.add(day, -_amount(rng, 20, 400), "4000", "Refunds", _spell(rng, "Stripe"))
        elif kind < 0.3:
            led.revenue(day)
        elif kind < 0.33:
            led.add(
                day,
                -_amount(rng, 20, 300),
                rng.choice(["4000", "4100"]),
                "Refunds",
                _spell(rng, rng.choice(["Stripe", "Square"])),
            )
        elif kind < 0.48:
            led.expense(day, COGS)
        elif kind < 0.5:
            # supplier credit: positive cogs, not an expense row
            led.add(day, _amount(rng, 10, 200), "5000", "Supplies", _spell(rng, "Uline"))
        elif kind < 0.92:
            led.expense(day, EXPENSES)
        elif kind < 0.97:
            spellings, account, parties = rng.choice(BALANCE)
            amount = _amount(rng, 100, 5000) * rng.choice([1, -1])
            led.add(day, amount, account, rng.choice(spellings), rng.choice(parties))
        else:
            led.add(
                day,
                -_amount(rng, 10, 500),
                rng.choice(INVALID_ACCOUNTS),
                rng.choice(["Travel", "Supplies", "", "Misc"]),
                _spell(rng, "Mystery Vendor"),
                service_date=day + timedelta(days=40) if rng.random() < 0.3 else None,
                receipt=_receipt(rng),
            )

    # Rent: the same amount every month (its MAD is 0, so it never has outliers)
    for month in months:
        amount = Decimal("-2500.00") if rng.random() < 0.9 else Decimal("-2650.00")
        led.add(
            month + timedelta(days=rng.randrange(0, 3)),
            amount,
            "7000",
            "Rent",
            "Harbor Properties",
            receipt="lease.pdf",
        )

    # The profile's shape, enforced month by month.
    for month in months:
        totals = _monthly_totals(led.rows, month)
        day = _month_day(rng, month)
        costs = totals["cogs"] + totals["opex"]
        if profile == "burning":
            gap = totals["revenue"] - costs + _amount(rng, 500, 4000)
            if gap > 0:
                led.add(day, -_money(gap), "7100", "Payroll", "Gusto", receipt="payroll.pdf")
        elif profile == "profitable":
            gap = costs - totals["revenue"] + _amount(rng, 1000, 6000)
            if gap > 0:
                led.add(
                    day,
                    _money(gap),
                    "4100",
                    "Bookings",
                    _spell(rng, "Direct Booking"),
                    service_date=day + timedelta(days=rng.randrange(0, 60)),
                )
        elif profile == "negative_margin":
            gap = totals["revenue"] - totals["cogs"] + _amount(rng, 200, 2000)
            if gap > 0:
                led.add(
                    day,
                    -_money(gap),
                    "5100",
                    "Contractors",
                    "Crew Services LLC",
                    receipt="invoice.pdf",
                )
        elif profile == "no_revenue" and month < date(2024, 7, 1):
            led.revenue(day)

    expenses = [
        r
        for r in led.rows
        if Decimal(r["amount"]) < 0
        and len(r["account"]) == 4
        and r["account"][0] in "567"
        and r["category"] != "Rent"
    ]

    # Exact duplicates (some twice), and the same row with the counterparty respelled.
    for row in rng.sample(expenses, min(6, len(expenses))):
        led.rows.append(dict(row))
        if rng.random() < 0.3:
            led.rows.append(dict(row))
        if rng.random() < 0.5:
            led.rows.append(dict(row, counterparty=_spell(rng, row["counterparty"].upper() + " ")))

    # Near duplicates 1-3 days apart, plus some 4 days apart that are not.
    for row in rng.sample(expenses, min(8, len(expenses))):
        shift = rng.choice([1, 2, 3, -1, -2, -3, 4, -4])
        day = date.fromisoformat(row["date"]) + timedelta(days=shift)
        led.rows.append(
            dict(row, date=day.isoformat(), counterparty=_spell(rng, row["counterparty"]))
        )

    # Outliers in categories with many similar rows.
    for _ in range(rng.randrange(1, 4)):
        day = _month_day(rng, rng.choice(months))
        led.add(day, -_amount(rng, 2000, 9000), "6100", "Software", "Oracle", receipt="")
    for _ in range(rng.randrange(0, 3)):
        day = _month_day(rng, rng.choice(months))
        led.add(day, -_amount(rng, 3000, 8000), "6400", "Travel", "Private Jet Co", receipt="")

    # Meals and travel over 75.00 without a receipt.
    for _ in range(rng.randrange(3, 8)):
        day = _month_day(rng, rng.choice(months))
        category = rng.choice([" meals ", "Travel", "ENTERTAINMENT", "gifts", "Vehicle", "Office"])
        account = {"Office": "6300"}.get(category, "6410")
        amount = rng.choice([Decimal("-75.00"), Decimal("-74.99"), -_amount(rng, 75, 500)])
        led.add(day, amount, account, category, "Harbor Grill", receipt=rng.choice(["", " "]))

    # Balance-sheet rows and rows whose account is not four digits.
    led.add(_month_day(rng, months[0]), Decimal("50000.00"), "3000", "Owner contribution", "Owner")
    led.add(_month_day(rng, rng.choice(months)), Decimal("-1234.56"), "61O0", "Travel", "Delta Air")
    led.add(_month_day(rng, rng.choice(months)), Decimal("-88.00"), "", "", "")
    led.add(
        _month_day(rng, rng.choice(months)),
        Decimal("900.00"),
        "40000",
        "Sales",
        "Square",
        service_date=END + timedelta(days=30),
    )
    # Prepaid expense with a service date: not unearned revenue.
    led.add(
        _month_day(rng, rng.choice(months)),
        Decimal("-600.00"),
        "6200",
        "Marketing",
        "Meta Ads",
        service_date=END,
        receipt="meta.pdf",
    )

    # Rows every entity shares: duplicates only across entities (consolidated).
    for row in shared:
        led.rows.append(dict(row, counterparty=_spell(rng, row["counterparty"]), memo=""))

    rows = led.rows
    rng.shuffle(rows)
    rows.sort(key=lambda r: r["date"])
    return rows


def _date_around(rng: random.Random) -> date | None:
    pick = rng.random()
    if pick < 0.15:
        return None
    if pick < 0.6:
        offset = rng.choice([-400, -90, -31, -1, 0, 1, 14, 30, 59, 60, 61, 90, 400])
        return AS_OF + timedelta(days=offset)
    return START + timedelta(days=rng.randrange((END - START).days + 200))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def _toml_table(lines: list[str], header: str, table: dict) -> None:
    lines.append("")
    lines.append(header)
    for key, value in table.items():
        lines.append(f"{key} = {_toml_value(value)}")


def make_profile(rng: random.Random, idx: int, seed: int, profile: str) -> str:
    lines = [
        f"name = {_toml_value(f'Entity {idx} ({profile})')}",
        f"kind = {_toml_value(KINDS[idx % len(KINDS)])}",
        'currency = "USD"',
    ]
    variant = (idx + seed) % 3
    if profile == "burning":
        cash = rng.choice(["1500.00", "250000.00", "40000.00"])
    else:
        cash = f"{_amount(rng, 1000, 80000):.2f}"
    if variant == 0:
        lines += [f'opening_cash = "{cash}"', 'opening_date = "2024-01-01"']
    elif variant == 1:
        lines += [f'opening_cash = "{cash}"', 'opening_date = "2024-03-01"']
    # variant 2: neither (cash 0 and no lower bound on dates)

    for n in range(rng.randrange(0, 9)):
        asset = {
            "kind": rng.choice(["domain", "vessel", "vehicle", "license", "insurance", "repo"]),
            "name": f"asset-{idx}-{n}",
        }
        expires = _date_around(rng)
        if expires is not None:
            asset["expires"] = expires.isoformat()
        if rng.random() < 0.5:
            asset["value"] = f"{_amount(rng, 0, 90000):.2f}"
        _toml_table(lines, "[[assets]]", asset)
    # Fixed boundary assets relative to 2025-03-31.
    for n, offset in enumerate([-1, 0, 60, 61]):
        expires = (AS_OF + timedelta(days=offset)).isoformat()
        _toml_table(
            lines, "[[assets]]", {"kind": "domain", "name": f"d{n}.example", "expires": expires}
        )

    if (idx + seed) % 4 != 3:
        for n in range(rng.randrange(1, 6)):
            item = {
                "name": f"service-{n}",
                "provider": rng.choice(["aws", "vercel", "github", "google"]),
                "monthly_cost": f"{_amount(rng, 0, 400):.2f}",
            }
            for field in (
                "mfa",
                "tls",
                "hsts",
                "backups",
                "dependency_updates",
                "logging",
                "secrets_in_repo",
                "sends_mail",
                "spf",
                "dkim",
                "ci",
                "tests",
                "auto_deploy",
            ):
                if rng.random() < 0.85:
                    item[field] = rng.random() < 0.6
            if rng.random() < 0.85:
                item["dmarc"] = rng.choice(["none", "quarantine", "reject"])
            _toml_table(lines, "[[stack]]", item)

    for name in rng.sample(
        [
            "GetMyBoat",
            "Yelp",
            "Google Business",
            "Instagram",
            "TripAdvisor",
            "Thumbtack",
            "Nextdoor",
        ],
        rng.randrange(0, 6),
    ):
        channel = {"name": name, "status": rng.choice(["absent", "claimed", "optimised"])}
        if rng.random() < 0.5:
            channel["commission"] = rng.choice(["0.085", "0.15", "0.2"])
            channel["reviews"] = rng.randrange(0, 400)
            channel["rating"] = round(rng.uniform(3, 5), 1)
        _toml_table(lines, "[[channels]]", channel)

    for name in kpi_names(rng, idx, seed):
        _toml_table(lines, "[[kpis]]", {"name": name, "target": "0.5", "unit": "ratio"})

    if (idx + seed) % 5 != 1:
        _toml_table(lines, "[audience]", {"email_list": rng.randrange(0, 10000)})
    return "\n".join(lines) + "\n"


def kpi_names(rng: random.Random, idx: int, seed: int) -> list[str]:
    if (idx + seed) % 4 == 2:
        return []
    names = ["utilization", "bookings", "nps", "mrr", "churn", "jobs_per_day"]
    return rng.sample(names, rng.randrange(1, 5))


def make_kpis(rng: random.Random, names: list[str]) -> list[dict[str, str]]:
    rows = []
    for name in names:
        cadence = rng.choice(["weekly", "monthly", "stale", "none", "boundary"])
        if cadence == "none":
            continue
        if cadence == "boundary":
            # exactly 29 and 30 days before some as_of dates
            for as_of in (
                date(2025, 3, 31),
                date(2025, 2, 14),
                date(2024, 12, 31),
                date(2025, 6, 15),
            ):
                offset = rng.choice([29, 30])
                rows.append((as_of - timedelta(days=offset), name))
            continue
        step = 7 if cadence == "weekly" else 30
        stop = date(2024, 10, 15) if cadence == "stale" else END
        day = START + timedelta(days=rng.randrange(step))
        while day <= stop:
            rows.append((day, name))
            day += timedelta(days=step)
    rows.sort()
    return [
        {"date": day.isoformat(), "kpi": name, "value": f"{rng.uniform(0, 100):.2f}"}
        for day, name in rows
    ]


def _shared_rows(rng: random.Random) -> list[dict[str, str]]:
    rows = []
    for _ in range(3):
        day = START + timedelta(days=rng.randrange((END - START).days))
        rows.append(
            {
                "date": day.isoformat(),
                "amount": f"{-_amount(rng, 100, 900):.2f}",
                "account": "7200",
                "category": "Insurance",
                "counterparty": "Umbrella  Insurance Co",
                "memo": "",
                "service_date": "",
                "receipt": "",
            }
        )
    return rows


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def make_dataset(root: Path, seed: int, n_entities: int = 3, rows_per_entity: int = 400) -> Path:
    """Write a data set of `n_entities` entity folders and `execreport.toml` under `root`."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shared = _shared_rows(random.Random(f"shared-{seed}"))
    keys = [ENTITY_KEYS[i] if i < len(ENTITY_KEYS) else f"entity{i}" for i in range(n_entities)]
    for idx, key in enumerate(keys):
        rng = random.Random(f"{seed}-{idx}")
        profile = PROFILES[idx % len(PROFILES)]
        folder = root / key
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "entity.toml").write_text(make_profile(rng, idx, seed, profile), "utf-8")
        _write_csv(
            folder / "ledger.csv",
            LEDGER_COLUMNS,
            make_ledger(rng, profile, rows_per_entity, shared),
        )
        # kpis.csv names only the KPIs the profile declares
        names = _declared_kpis(folder / "entity.toml")
        _write_csv(folder / "kpis.csv", ["date", "kpi", "value"], make_kpis(rng, names))

    lines = [
        "[report]",
        'as_of = "2025-03-31"',
        "",
        "[archive]",
        'path = "archive.sqlite3"',
    ]
    for key in keys:
        lines += ["", f"[entities.{key}]", f'path = "{key}"']
    lines += [
        "",
        "[delivery]",
        'sender = "outbox"',
        'from = "reports@example.com"',
        'to = ["exec@example.com"]',
        'bcc = ["audit@example.com"]',
        "",
        "[delivery.outbox]",
        'path = "outbox"',
    ]
    config = root / "execreport.toml"
    config.write_text("\n".join(lines) + "\n", "utf-8")
    return config


def _declared_kpis(path: Path) -> list[str]:
    import tomllib

    return [k["name"] for k in tomllib.loads(path.read_text("utf-8")).get("kpis", [])]


if __name__ == "__main__":  # python tests/datagen.py ROOT [SEED]
    import sys

    print(make_dataset(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0))
