#!/usr/bin/env python3
"""Write the example data of the four entities to ``examples/data/<key>/``.

The data is fictional and deterministic: one ``random.Random(2025)``, no wall clock, the
standard library only and ``Decimal`` for money, so every run rewrites the folders byte for
byte. The folder format is docs/data-format.md (DESIGN.md, "Entity data folder"); the
figures the reports compute from it are METRICS.md. The ledgers run from 2024-01-01 to
2025-06-30 and carry planted findings for the reports of ``as_of = 2025-03-31`` (listed in
``PLANTED``); the self-check at the end reads the written files back, recomputes the
METRICS.md figures (cash, net burn, the accounting audit, asset expiry, KPI coverage) and
asserts them, so a change here that moves a planted finding fails loudly.

Run: ``python examples/generate.py`` (from any folder).
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import tomllib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

START = date(2024, 1, 1)
END = date(2025, 6, 30)
AS_OF = date(2025, 3, 31)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
KEYS = ("jada", "queenofsandiego", "quickdumpnow", "dangerouscentaur")
HEADER = [
    "date",
    "amount",
    "account",
    "category",
    "counterparty",
    "memo",
    "service_date",
    "receipt",
]

XSS_COUNTERPARTY = "<script>alert(1)</script> Supplies"

# What the reports of as_of 2025-03-31 are meant to find; self_check asserts the counts.
PLANTED = (
    "jada: exact duplicate expense, two identical rows 2024-07-19 -142.35 5000 fuel 'Shelter Island Fuel Dock'",
    "jada: account '61O0' (letter O) on the 2024-08-05 insurance premium -642.00",
    "jada: meals -86.40 'Point Loma Seafoods' 2024-06-14 with no receipt",
    "jada: asset 'Hull & P&I policy' expired 2025-02-28; domain sailjada.com expires 2025-04-10",
    "jada: channels GetMyBoat and Viator absent; [audience] email_list 3676",
    "jada and queenofsandiego: deposits dated on or before 2025-03-31 for later charters/events (unearned)",
    "queenofsandiego: travel -312.00 'Alaska Airlines' 2024-10-30 with no receipt",
    "queenofsandiego: mail-sending stack items with dmarc 'none' (one also without dkim)",
    "queenofsandiego: kpi review_rating stale (last value 2024-12-31)",
    "quickdumpnow: near-duplicate pair -248.00 6300 'Pacific Print & Sign' on 2024-10-07 and 2024-10-09",
    "quickdumpnow: outlier -4800.00 6500 vehicle 'Miramar Truck & Diesel' 2024-10-21 among $60-200 vehicle rows",
    "quickdumpnow: empty category on 2024-12-06 -64.20 'Home Depot'; category 'misc' on 2025-02-11 -38.00",
    'quickdumpnow: meals -92.60 "Phil\'s BBQ" 2025-01-17 with no receipt',
    f"quickdumpnow: counterparty {XSS_COUNTERPARTY!r} on 2024-08-09 -23.47 supplies",
    "quickdumpnow: vehicle registration expires 2025-05-15; channel Angi absent; no [audience]",
    "dangerouscentaur: negative cash on 2025-03-31; empty category on 2024-11-19 -54.99 'Amazon'",
    "dangerouscentaur: stack 'api' has secrets_in_repo = true; 'marketing site' has no ci and no tests",
    "dangerouscentaur: kpi ltv not declared; churn stale; cac declared with no values",
)

# Recurring debits paid by autopay carry no receipt; every other expense has one.
AUTOPAY = {
    "merchant fees",
    "slip fees",
    "insurance",
    "payment processing",
    "channel commission",
    "bank fees",
    "vehicle lease",
    "interest",
    "payroll",
    "parking",
}
RECEIPT_CATEGORIES = {"travel", "meals", "entertainment", "gifts", "vehicle"}


def money(value: str | int | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def month_range(first: date, last: date) -> list[tuple[int, int]]:
    months, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def month_days(y: int, m: int) -> list[date]:
    d, out = date(y, m, 1), []
    while d.month == m:
        out.append(d)
        d += timedelta(days=1)
    return out


def month_end(y: int, m: int) -> date:
    return month_days(y, m)[-1]


def weekdays(start: date, end: date, weekday: int) -> list[date]:
    d = start + timedelta(days=(weekday - start.weekday()) % 7)
    out = []
    while d <= end:
        out.append(d)
        d += timedelta(days=7)
    return out


def norm(counterparty: str) -> str:
    return " ".join(counterparty.lower().split())


@dataclass(frozen=True)
class Row:
    date: date
    amount: Decimal
    account: str
    category: str
    counterparty: str
    memo: str
    service_date: date | None
    receipt: str

    def cells(self) -> list[str]:
        return [
            self.date.isoformat(),
            f"{self.amount:.2f}",
            self.account,
            self.category,
            self.counterparty,
            self.memo,
            self.service_date.isoformat() if self.service_date else "",
            self.receipt,
        ]


class Book:
    """The ledger rows of one entity.

    Generated expenses never repeat a (counterparty, amount) of another expense within three
    days, in any entity, so the duplicate and near-duplicate findings are exactly the planted
    ones: a colliding amount moves by a cent.
    """

    seen: dict[tuple[str, Decimal], list[date]] = {}

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[Row] = []
        self.receipts: set[str] = set()
        self.decks: dict[tuple, list[int]] = {}

    def amount(self, lo: str | int, hi: str | int) -> Decimal:
        """A random amount in [lo, hi]; draws for the same range are spread evenly over it.

        Each range deals its six equal strata in shuffled order before reusing one, so even a
        dozen rows of a category look like the spread they stand for, not a lucky cluster.
        """
        lo_c, hi_c = int(Decimal(str(lo)) * 100), int(Decimal(str(hi)) * 100)
        deck = self.decks.setdefault((lo_c, hi_c), [])
        if not deck:
            deck.extend(range(6))
            self.rng.shuffle(deck)
        stratum = deck.pop()
        width = (hi_c - lo_c) / 6
        cents = self.rng.randint(round(lo_c + stratum * width), round(lo_c + (stratum + 1) * width))
        return Decimal(cents) / 100

    def receipt_path(self, d: date, category: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-") or "expense"
        base, n = f"receipts/{d.isoformat()}-{slug}", 1
        path = f"{base}.pdf"
        while path in self.receipts:
            n += 1
            path = f"{base}-{n}.pdf"
        self.receipts.add(path)
        return path

    def add(
        self,
        d: date,
        amount: Decimal,
        account: str,
        category: str,
        counterparty: str,
        memo: str = "",
        service_date: date | None = None,
        receipt: bool | None = None,
        planted: bool = False,
    ) -> Row | None:
        if d < START or d > END:
            return None
        amount = money(amount)
        expense = amount < 0 and account[:1] in "567"
        if expense and not planted:
            key = norm(counterparty)
            while any(abs((d - o).days) <= 3 for o in Book.seen.get((key, amount), [])):
                amount -= CENT
        if expense:
            Book.seen.setdefault((norm(counterparty), amount), []).append(d)
        if receipt is None:
            receipt = expense and category not in AUTOPAY
        row = Row(
            d,
            amount,
            account,
            category,
            counterparty,
            memo,
            service_date,
            self.receipt_path(d, category) if receipt else "",
        )
        self.rows.append(row)
        return row

    def expense(
        self, d: date, account: str, category: str, counterparty: str, lo, hi, memo="", **kw
    ):
        return self.add(d, -self.amount(lo, hi), account, category, counterparty, memo, **kw)

    def monthly(self, account, category, counterparty, prices, day, memo="", last=END):
        """A subscription: ``prices`` maps the first month of a price to the price."""
        for y, m in month_range(START, min(END, last)):
            price = [p for (since, p) in sorted(prices.items()) if since <= (y, m)][-1]
            d = date(y, m, min(day, len(month_days(y, m))))
            if d <= last:
                self.add(d, -money(price), account, category, counterparty, memo)


HOLDING_BURN_Q1 = Decimal("7800")  # the holding's net burn a month over Jan-Mar 2025
JADA_CASH = Decimal("18500")  # JADA's cash on as_of: about four months of its burn


def burn_3m(rows: list[Row]) -> Decimal:
    """Costs minus revenue over Jan-Mar 2025, the trailing 3 months of as_of."""
    q1 = [
        r
        for r in rows
        if date(2025, 1, 1) <= r.date <= AS_OF and re.fullmatch(r"[4-7]\d{3}", r.account)
    ]
    return -sum((r.amount for r in q1), ZERO)


def opening_cash(rows: list[Row], cash_on_as_of: Decimal) -> str:
    """The opening balance, in whole thousands, that leaves about ``cash_on_as_of`` on as_of."""
    history = sum((r.amount for r in rows if r.date <= AS_OF), ZERO)
    return f"{((cash_on_as_of - history) / 1000).quantize(Decimal('1'), rounding=ROUND_HALF_UP) * 1000:.2f}"


NAMES_FIRST = "ABCDEGHJKLMNPRSTVW"
NAMES_LAST = (
    "Alvarez Baker Chen Delgado Evans Fischer Garcia Hughes Ito Jensen Kim Lopez Morales "
    "Nakamura Novak Okafor Patel Quinn Reyes Rossi Schmidt Singh Tanaka Turner Vargas "
    "Walsh Whitaker Young Zimmerman Brennan Castillo Dubois Ferreira Gallagher Haddad "
    "Ibrahim Kowalczyk Larsen Mendoza Nguyen Ortega Park Silva Takahashi"
).split()


def customer(rng: random.Random) -> str:
    return f"{rng.choice(NAMES_FIRST)}. {rng.choice(NAMES_LAST)}"


def pick_day(rng: random.Random, y: int, m: int, weekend_weight: int = 3) -> date:
    days = month_days(y, m)
    return rng.choices(days, [weekend_weight if d.weekday() >= 5 else 1 for d in days])[0]


# --------------------------------------------------------------------------- charters


@dataclass
class Charter:
    day: date
    product: str
    price: Decimal
    channel: str
    lead: int
    hours: int


def charter_revenue(book: Book, c: Charter, commission: dict[str, Decimal], account="4000"):
    """Book one charter's payments: channel payouts, deposits, prepayments or day-of."""
    rng = book.rng
    what = f"{c.product} on {c.day.isoformat()}"
    booked = c.day - timedelta(days=c.lead)
    if c.channel.startswith("direct:"):  # a booking whose payment terms are fixed
        who, terms = customer(rng), c.channel.split(":")[1]
        if terms == "deposit":
            deposit = money(c.price / 2)
            book.add(booked, deposit, account, "charter", who, f"deposit 50%: {what}", c.day)
            book.add(c.day, c.price - deposit, account, "charter", who, f"balance: {what}", c.day)
        else:
            book.add(booked, c.price, account, "charter", who, f"paid in full: {what}", c.day)
        return
    if c.channel != "direct":
        payout = c.day + timedelta(days=rng.randint(1, 3))
        book.add(
            payout, c.price, account, "charter", c.channel, f"{c.channel} payout: {what}", c.day
        )
        fee = money(c.price * commission[c.channel])
        book.add(
            payout, -fee, "5300", "channel commission", c.channel, f"commission: {what}", c.day
        )
        return
    who = customer(rng)
    mode = rng.random()
    if booked < START or c.lead < 7 or mode < 0.35:
        book.add(c.day, c.price, account, "charter", who, f"paid on the day: {what}", c.day)
    elif mode < 0.75:
        deposit = money(c.price / 2)
        book.add(booked, deposit, account, "charter", who, f"deposit 50%: {what}", c.day)
        book.add(c.day, c.price - deposit, account, "charter", who, f"balance: {what}", c.day)
    else:
        book.add(booked, c.price, account, "charter", who, f"paid in full: {what}", c.day)


def stripe_fees(book: Book, account="5200"):
    """Stripe's fee on every card payment of a customer: 2.9% + $0.30, the same day."""
    # Channel bookings are paid out by the channel; events are invoiced and paid by bank transfer.
    paid = [
        r
        for r in book.rows
        if r.amount > 0
        and r.account == "4000"
        and r.counterparty not in ("Sailo", "GetMyBoat", "Viator")
    ]
    for r in paid:
        book.add(
            r.date,
            -(r.amount * Decimal("0.029") + Decimal("0.30")),
            account,
            "payment processing",
            "Stripe",
            f"card fee, {r.counterparty}",
        )


def monthly_kpi_rows(kpi: str, values: dict[tuple[int, int], Decimal], last: date) -> list[tuple]:
    return [
        (month_end(y, m), kpi, v) for (y, m), v in sorted(values.items()) if month_end(y, m) <= last
    ]


def charter_kpis(charters: list[Charter]) -> dict[str, dict]:
    util, rpc, lead = {}, {}, {}
    for y, m in month_range(START, END):
        month = [c for c in charters if (c.day.year, c.day.month) == (y, m)]
        if not month:
            continue
        days = len({c.day for c in month})
        util[(y, m)] = (Decimal(days) / len(month_days(y, m))).quantize(CENT)
        rpc[(y, m)] = money(sum((c.price for c in month), ZERO) / len(month))
        lead[(y, m)] = (Decimal(sum(c.lead for c in month)) / len(month)).quantize(Decimal("0.1"))
    return {"utilization": util, "revenue_per_charter": rpc, "booking_lead_time_days": lead}


# --------------------------------------------------------------------------- JADA


def gen_jada(rng: random.Random) -> dict:
    book = Book(rng)
    season = {
        1: 0.3,
        2: 0.3,
        3: 0.45,
        4: 0.7,
        5: 0.9,
        6: 1.2,
        7: 1.5,
        8: 1.5,
        9: 1.1,
        10: 0.8,
        11: 0.5,
        12: 0.6,
    }
    products = [
        ("2-hour sunset sail", 650, 850, 2),
        ("3-hour bay sail", 900, 1150, 3),
        ("half-day sail", 1150, 1450, 4),
        ("6-hour day sail", 1500, 1750, 6),
    ]
    commission = {"Sailo": Decimal("0.15")}
    deckhands = ["L. Ortiz", "S. Marchetti", "T. Holloway"]

    # Planted first, so generated expenses steer clear of them.
    dup = book.add(
        date(2024, 7, 19),
        Decimal("-142.35"),
        "5000",
        "fuel",
        "Shelter Island Fuel Dock",
        "diesel top-up",
        receipt=True,
        planted=True,
    )
    book.rows.append(dup)  # the same charge entered twice
    book.add(
        date(2024, 6, 14),
        Decimal("-86.40"),
        "6410",
        "meals",
        "Point Loma Seafoods",
        "lunch with charter broker",
        receipt=False,
        planted=True,
    )

    charters: list[Charter] = []
    for y, m in month_range(START, date(2025, 8, 31)):
        n = round(11 * season[m] * (1.05 if y == 2025 else 1.0) + rng.uniform(-1, 1))
        for _ in range(max(n, 1)):
            product, lo, hi, hours = rng.choice(products)
            if m in (1, 2, 3) and rng.random() < 0.4:
                product, lo, hi, hours = "whale watching sail", 850, 1050, 3
            price = money(rng.randint(lo // 5, hi // 5) * 5)
            summer = m in (6, 7, 8)
            lead = rng.randint(2, 21) + (rng.randint(0, 30) if summer else 0)
            channel = "Sailo" if rng.random() < 0.45 else "direct"
            charters.append(Charter(pick_day(rng, y, m), product, price, channel, lead, hours))
    # Two spring charters booked well ahead: still unearned on 2025-03-31.
    charters.append(
        Charter(date(2025, 4, 19), "half-day sail", Decimal("1350.00"), "direct:deposit", 30, 4)
    )
    charters.append(
        Charter(date(2025, 5, 24), "6-hour day sail", Decimal("1650.00"), "direct:full", 57, 6)
    )
    charters.sort(key=lambda c: c.day)

    for c in charters:
        charter_revenue(book, c, commission)
        if c.day > END:
            continue
        book.add(
            c.day,
            -(money(150 + 25 * c.hours) + book.amount(0, 60)),
            "5100",
            "captain",
            "Capt. M. Brennan",
            f"captain, {c.product}",
        )
        if c.hours >= 3 or rng.random() < 0.5:
            book.add(
                c.day,
                -(money(60 + 20 * c.hours) + book.amount(0, 40)),
                "5100",
                "crew",
                rng.choice(deckhands),
                f"deckhand, {c.product}",
            )
        if rng.random() < 0.35:
            book.expense(
                c.day + timedelta(days=1),
                "5000",
                "fuel",
                "Shelter Island Fuel Dock",
                48,
                165,
                "diesel",
            )
        if rng.random() < 0.6:
            book.expense(
                c.day - timedelta(days=rng.randint(0, 1)),
                "5150",
                "provisions",
                rng.choice(["Costco", "Trader Joe's", "Vons"]),
                28,
                95,
                "drinks and snacks",
            )

    book.monthly(
        "6600",
        "slip fees",
        "Shelter Island Marina",
        {(2024, 1): "1480.00", (2025, 1): "1545.00"},
        1,
        "slip B-14",
    )
    book.monthly(
        "6100",
        "insurance",
        "Pacific Marine Underwriters",
        {(2024, 1): "642.00"},
        5,
        "Hull & P&I premium",
        last=date(2025, 2, 28),
    )
    book.monthly(
        "7100",
        "interest",
        "Bayside Marine Lending",
        {(2024, 1): "1265.00", (2024, 7): "1240.00"},
        15,
        "vessel loan interest",
    )
    book.monthly(
        "6200", "software", "Google Workspace", {(2024, 1): "14.40", (2025, 1): "16.80"}, 2
    )
    book.monthly(
        "6200", "software", "QuickBooks Online", {(2024, 1): "35.00", (2025, 1): "38.00"}, 10
    )
    book.monthly("6200", "software", "Canva", {(2024, 1): "14.99"}, 20)
    book.monthly(
        "6700",
        "professional fees",
        "Harbor Bookkeeping",
        {(2024, 1): "325.00"},
        28,
        "monthly bookkeeping",
    )
    book.monthly("7900", "bank fees", "Chase", {(2024, 1): "15.00"}, 27, "monthly service fee")
    for d in weekdays(START, END, 0):
        book.expense(d, "6820", "cleaning", "Harbor Yacht Detailing", 110, 165, "weekly washdown")
    for y, m in month_range(START, END):
        book.expense(
            date(y, m, 3), "6200", "software", "Amazon Web Services", 38, 48, "booking site"
        )
        book.expense(
            date(y, m, rng.randint(12, 18)),
            "6810",
            "hull cleaning",
            "Bay Hull Divers",
            165,
            215,
            "monthly hull cleaning",
        )
        book.expense(month_end(y, m), "6300", "marketing", "Google Ads", 180, 420, "search ads")
        if m in (4, 5, 6, 7, 8, 9) or rng.random() < 0.5:
            book.expense(
                date(y, m, rng.randint(5, 25)),
                "6300",
                "marketing",
                "Meta Ads",
                90,
                250,
                "Instagram ads",
            )
        for _ in range(rng.randint(0, 2)):
            book.expense(
                pick_day(rng, y, m, 1),
                "6800",
                "maintenance",
                rng.choice(["Shelter Island Boatyard", "Pacific Rigging", "West Marine"]),
                150,
                900,
                rng.choice(
                    [
                        "engine service",
                        "rigging work",
                        "sail repair",
                        "winch service",
                        "bilge pump",
                        "through-hull valve",
                    ]
                ),
            )
        for _ in range(rng.randint(1, 3)):
            book.expense(
                pick_day(rng, y, m, 1),
                "6410",
                "meals",
                rng.choice(["Island Prime", "Miguel's Cocina", "Point Loma Seafoods", "Starbucks"]),
                18,
                120,
                rng.choice(["crew meal", "client lunch", "meeting with broker"]),
            )
        if rng.random() < 0.35:
            book.expense(
                pick_day(rng, y, m, 1),
                "6400",
                "travel",
                rng.choice(["Uber", "Alaska Airlines"]),
                22,
                380,
                "boat show / supplier visit",
            )
    book.add(
        date(2024, 3, 15),
        Decimal("-1150.00"),
        "6710",
        "tax preparation",
        "Lopez & Hart CPAs",
        "2023 tax return",
    )
    book.add(
        date(2025, 3, 14),
        Decimal("-1195.00"),
        "6710",
        "tax preparation",
        "Lopez & Hart CPAs",
        "2024 tax return",
    )
    book.add(
        date(2024, 7, 8),
        Decimal("-375.00"),
        "6900",
        "licenses & permits",
        "Port of San Diego",
        "charter operator permit",
    )
    book.add(
        date(2024, 9, 30),
        Decimal("-26.00"),
        "6900",
        "licenses & permits",
        "US Coast Guard NVDC",
        "certificate of documentation renewal",
    )
    book.add(
        date(2024, 4, 10),
        Decimal("-19.99"),
        "6200",
        "software",
        "Squarespace Domains",
        "sailjada.com renewal",
    )
    stripe_fees(book)
    book.add(
        date(2024, 2, 14),
        Decimal("-3850.00"),
        "6830",
        "haul-out",
        "Shelter Island Boatyard",
        "haul-out: bottom paint and zincs",
    )

    # The August premium was keyed with a letter O in the account number.
    book.rows = [
        replace(r, account="61O0")
        if r.category == "insurance" and r.date == date(2024, 8, 5)
        else r
        for r in book.rows
    ]

    k = charter_kpis(charters)
    kpis = (
        monthly_kpi_rows("utilization", k["utilization"], END)
        + monthly_kpi_rows("revenue_per_charter", k["revenue_per_charter"], END)
        + monthly_kpi_rows("booking_lead_time_days", k["booking_lead_time_days"], date(2025, 1, 31))
        + [
            (date(2024, 3, 31), "review_rating", Decimal("4.8")),
            (date(2024, 6, 30), "review_rating", Decimal("4.8")),
            (date(2024, 9, 30), "review_rating", Decimal("4.9")),
            (date(2024, 12, 31), "review_rating", Decimal("4.9")),
        ]
    )
    profile = {
        "name": "JADA",
        "kind": "charter",
        "opening_cash": None,  # set by finish_jada,
        "assets": [
            {"kind": "vessel", "name": "JADA, 52 ft sailing yacht", "value": "385000.00"},
            {
                "kind": "insurance",
                "name": "Hull & P&I policy",
                "expires": "2025-02-28",
                "value": "0.00",
            },
            {"kind": "domain", "name": "sailjada.com", "expires": "2025-04-10", "value": "0.00"},
            {"kind": "website", "name": "www.sailjada.com", "value": "0.00"},
            {
                "kind": "license",
                "name": "USCG certificate of documentation",
                "expires": "2025-09-30",
            },
            {
                "kind": "license",
                "name": "Port of San Diego charter operator permit",
                "expires": "2025-07-31",
            },
            {"kind": "account", "name": "Sailo owner account"},
        ],
        "stack": [
            stack(
                "booking site",
                "aws",
                "42.10",
                hosting="managed",
                domain="sailjada.com",
                mfa=True,
                tls=True,
                backups=True,
                sends_mail=True,
                spf=True,
                dkim=True,
                dmarc="none",
            ),
            stack(
                "email",
                "google workspace",
                "16.80",
                domain="sailjada.com",
                mfa=True,
                tls=True,
                hsts=True,
                backups=True,
                logging=True,
                sends_mail=True,
                spf=True,
                dkim=True,
                dmarc="quarantine",
            ),
            stack(
                "bookkeeping",
                "quickbooks online",
                "38.00",
                mfa=True,
                tls=True,
                hsts=True,
                backups=True,
                logging=True,
            ),
        ],
        "channels": [
            {
                "name": "Sailo",
                "counterparties": ["Sailo"],
                "status": "claimed",
                "commission": "0.15",
                "reviews": 14,
                "rating": "4.9",
            },
            {
                "name": "GetMyBoat",
                "counterparties": ["GetMyBoat"],
                "status": "absent",
                "commission": "0.085",
            },
            {
                "name": "Viator",
                "counterparties": ["Viator"],
                "status": "absent",
                "commission": "0.20",
            },
            {
                "name": "Google Business Profile",
                "status": "claimed",
                "reviews": 41,
                "rating": "4.8",
            },
        ],
        "kpis": [
            {"name": "utilization", "target": "0.45", "unit": "ratio"},
            {"name": "revenue_per_charter", "target": "1200.00", "unit": "USD"},
            {"name": "booking_lead_time_days", "target": "21", "unit": "days"},
            {"name": "review_rating", "target": "4.8", "unit": "stars"},
        ],
        "audience": {"email_list": 3676},
    }
    board = [
        card(
            "JADA-1",
            "Renew the Hull & P&I policy (lapsed 2025-02-28)",
            "doing",
            "cfo",
            "2025-03-15",
            ["insurance", "risk"],
        ),
        card(
            "JADA-2",
            "Renew sailjada.com and turn on auto-renew",
            "todo",
            "cto",
            "2025-04-05",
            ["domain"],
        ),
        card(
            "JADA-3",
            "List JADA on GetMyBoat and Viator",
            "todo",
            "cmo",
            "2025-04-30",
            ["channels", "growth"],
        ),
        card("JADA-4", "Close the Q1 2025 books", "todo", "accounting", "2025-04-20", ["close"]),
    ]
    return {"book": book, "kpis": kpis, "profile": profile, "board": board}


# --------------------------------------------------------------------------- Queen of San Diego


def gen_queenofsandiego(rng: random.Random) -> dict:
    book = Book(rng)
    season = {
        1: 0.5,
        2: 0.6,
        3: 0.7,
        4: 0.8,
        5: 1.0,
        6: 1.3,
        7: 1.5,
        8: 1.5,
        9: 1.2,
        10: 0.9,
        11: 0.7,
        12: 1.0,
    }
    commission = {
        "Sailo": Decimal("0.15"),
        "GetMyBoat": Decimal("0.085"),
        "Viator": Decimal("0.20"),
    }
    deckhands = ["J. Beltran", "R. Soto", "E. Lindqvist", "D. Acheson"]

    book.add(
        date(2024, 10, 30),
        Decimal("-312.00"),
        "6400",
        "travel",
        "Alaska Airlines",
        "flight to Fort Lauderdale boat show",
        receipt=False,
        planted=True,
    )

    def crew(d: date, hours: int, what: str, extra_hands: int = 1):
        book.add(
            d,
            -(money(180 + 30 * hours) + book.amount(0, 60)),
            "5100",
            "captain",
            "Capt. A. Ferreira",
            f"captain, {what}",
        )
        for hand in rng.sample(deckhands, 1 + extra_hands):
            book.add(
                d,
                -(money(80 + 20 * hours) + book.amount(0, 40)),
                "5100",
                "crew",
                hand,
                f"deckhand, {what}",
            )

    def fuel(d: date, lo=120, hi=300):
        book.expense(d, "5000", "fuel", "Harbor Island Fuel Dock", lo, hi, "diesel")

    charters: list[Charter] = []
    for y, m in month_range(START, date(2025, 8, 31)):
        n = round(5 * season[m] + rng.uniform(-1, 1))
        for _ in range(max(n, 1)):
            product, lo, hi, hours = rng.choice(
                [
                    ("3-hour harbor cruise", 1600, 2200, 3),
                    ("sunset dinner cruise", 2100, 2800, 3),
                    ("4-hour private cruise", 2200, 3000, 4),
                ]
            )
            price = money(rng.randint(lo // 5, hi // 5) * 5)
            lead = rng.randint(3, 28) + (rng.randint(0, 25) if m in (6, 7, 8) else 0)
            channel = rng.choices(["direct", "Sailo", "GetMyBoat"], [5, 3, 2])[0]
            charters.append(Charter(pick_day(rng, y, m), product, price, channel, lead, hours))
    charters.sort(key=lambda c: c.day)
    for c in charters:
        charter_revenue(book, c, commission)
        if c.day <= END:
            crew(c.day, c.hours, c.product)
            fuel(c.day)
            book.expense(
                c.day,
                "5150",
                "provisions",
                rng.choice(["Costco", "Restaurant Depot"]),
                45,
                140,
                "bar and snacks",
            )

    # Events: weddings, corporate and celebrations, 30% deposit at booking, balance 14 days before.
    events = []
    for y, m in month_range(START, date(2025, 9, 30)):
        count = (
            {1: 0, 2: 1, 3: 1}.get(m)
            if m <= 3
            else rng.choice([1, 1, 2] if m in (4, 5, 6, 9, 10, 12) else [0, 1])
        )
        for _ in range(count):
            day = pick_day(rng, y, m, 5)
            kind = rng.choice(["wedding reception", "corporate event", "celebration cruise"])
            price = money(rng.randint(4200 // 50, 8800 // 50) * 50)
            events.append((day, kind, price, rng.randint(21, 75)))
    events.sort()
    for day, kind, price, lead in events:
        who = (
            customer(rng)
            if kind != "corporate event"
            else rng.choice(
                [
                    "Northbay Biotech",
                    "Cabrillo Software",
                    "Harbor Realty Group",
                    "Mesa Credit Union",
                    "Point Loma Law",
                ]
            )
        )
        what = f"{kind} on {day.isoformat()}"
        booked = day - timedelta(days=lead)
        deposit = money(price * Decimal("0.30"))
        if booked >= START:
            book.add(booked, deposit, "4010", "event", who, f"deposit 30%: {what}", day)
            book.add(
                day - timedelta(days=14),
                price - deposit,
                "4010",
                "event",
                who,
                f"balance: {what}",
                day,
            )
        else:
            book.add(
                day - timedelta(days=14), price, "4010", "event", who, f"paid in full: {what}", day
            )
        if day <= END:
            crew(day, 5, kind, extra_hands=2)
            fuel(day)
            book.add(
                day,
                -money(price * Decimal(rng.randint(26, 34)) / 100),
                "5150",
                "catering",
                rng.choice(["Coronado Catering Co.", "Bayside Catering"]),
                f"catering, {what}",
            )

    # Gray whale season: two public trips a week, sold on Viator, paid out weekly.
    whale_days = [
        d
        for d in month_days(2024, 1)
        + month_days(2024, 2)
        + month_days(2024, 3)
        + month_days(2024, 12)
        + month_days(2025, 1)
        + month_days(2025, 2)
        + month_days(2025, 3)
        if d.weekday() == 5 and not (d.month == 3 and d.day > 24)
    ]
    whale_kpi = []
    for d in whale_days:
        tickets = rng.randint(18, 32)
        gross = money(tickets * 68)
        what = f"whale watching, {tickets} tickets, {d.isoformat()}"
        payout = d + timedelta(days=(1 - d.weekday()) % 7)  # the Tuesday after
        book.add(payout, gross, "4000", "charter", "Viator", f"Viator payout: {what}", d)
        book.add(
            payout,
            -money(gross * commission["Viator"]),
            "5300",
            "channel commission",
            "Viator",
            f"commission: {what}",
            d,
        )
        crew(d, 3, "whale watching")
        fuel(d, 110, 240)
        whale_kpi.append(Charter(d, "whale watching", gross, "Viator", rng.randint(1, 10), 3))

    cancellations = [
        (date(2024, 5, 9), "-1260.00"),
        (date(2024, 8, 22), "-690.00"),
        (date(2024, 11, 4), "-1575.00"),
        (date(2025, 6, 3), "-1980.00"),
    ]
    for d, amount in cancellations:
        book.add(
            d,
            Decimal(amount),
            "4900",
            "refund",
            customer(rng),
            "cancelled booking, deposit refunded",
        )

    book.monthly(
        "6600",
        "slip fees",
        "Harbor Island West Marina",
        {(2024, 1): "2380.00", (2025, 1): "2460.00"},
        1,
        "slip D-3, 65 ft",
    )
    book.monthly(
        "6100",
        "insurance",
        "Lighthouse Marine Insurance",
        {(2024, 1): "1185.00", (2024, 12): "1240.00"},
        6,
        "charter liability and hull premium",
    )
    book.monthly(
        "6200", "software", "Google Workspace", {(2024, 1): "28.80", (2025, 1): "33.60"}, 4
    )
    book.monthly(
        "6200", "software", "Mailchimp", {(2024, 1): "45.00", (2024, 9): "60.00"}, 8, "newsletter"
    )
    book.monthly("6200", "software", "Squarespace", {(2024, 1): "33.00"}, 12, "website")
    book.monthly("6200", "software", "FareHarbor", {(2024, 1): "59.00"}, 16, "booking system")
    book.monthly(
        "6700",
        "professional fees",
        "Harbor Bookkeeping",
        {(2024, 1): "375.00"},
        27,
        "monthly bookkeeping",
    )
    book.monthly(
        "7900", "bank fees", "Wells Fargo", {(2024, 1): "14.00"}, 26, "monthly service fee"
    )
    book.monthly("6250", "phone", "Verizon", {(2024, 1): "84.00"}, 21)
    for d in weekdays(START, END, 1):
        book.expense(d, "6820", "cleaning", "Harbor Yacht Detailing", 140, 210, "weekly washdown")
    for y, m in month_range(START, END):
        book.expense(
            date(y, m, rng.randint(10, 20)),
            "6810",
            "hull cleaning",
            "Bay Hull Divers",
            230,
            300,
            "monthly hull cleaning",
        )
        book.expense(
            month_end(y, m) - timedelta(days=1),
            "6300",
            "marketing",
            "Google Ads",
            220,
            480,
            "search ads",
        )
        if m in (1, 2, 3, 4, 9, 10):
            book.add(
                date(y, m, 3),
                Decimal("-199.00"),
                "6300",
                "marketing",
                "The Knot",
                "wedding venue listing",
            )
        for _ in range(rng.randint(0, 2)):
            book.expense(
                pick_day(rng, y, m, 1),
                "6800",
                "maintenance",
                rng.choice(["Driscoll Boatyard", "Marine Diesel Services", "West Marine"]),
                180,
                950,
                rng.choice(
                    [
                        "generator service",
                        "engine service",
                        "upholstery",
                        "electrical",
                        "sound system",
                    ]
                ),
            )
        for _ in range(rng.randint(1, 2)):
            book.expense(
                pick_day(rng, y, m, 1),
                "6410",
                "meals",
                rng.choice(["Island Prime", "Waterbar", "Tom Ham's Lighthouse"]),
                24,
                140,
                rng.choice(["client tasting", "event planning meeting", "crew meal"]),
            )
    book.add(
        date(2024, 10, 29),
        Decimal("-412.00"),
        "6400",
        "travel",
        "Marriott",
        "Fort Lauderdale boat show hotel",
    )
    book.add(
        date(2024, 11, 2), Decimal("-288.00"), "6400", "travel", "Alaska Airlines", "return flight"
    )
    book.add(date(2024, 11, 1), Decimal("-64.50"), "6400", "travel", "Uber", "boat show transfers")
    book.add(
        date(2024, 3, 12),
        Decimal("-1250.00"),
        "6710",
        "tax preparation",
        "Lopez & Hart CPAs",
        "2023 tax return",
    )
    book.add(
        date(2025, 3, 11),
        Decimal("-1295.00"),
        "6710",
        "tax preparation",
        "Lopez & Hart CPAs",
        "2024 tax return",
    )
    book.add(
        date(2024, 6, 27),
        Decimal("-640.00"),
        "6900",
        "licenses & permits",
        "Port of San Diego",
        "charter operator permit",
    )
    book.add(
        date(2024, 2, 20),
        Decimal("-450.00"),
        "6900",
        "licenses & permits",
        "US Coast Guard",
        "certificate of inspection",
    )
    stripe_fees(book)

    k = charter_kpis(charters + whale_kpi)
    kpis = (
        monthly_kpi_rows("utilization", k["utilization"], END)
        + monthly_kpi_rows("revenue_per_charter", k["revenue_per_charter"], END)
        + monthly_kpi_rows("booking_lead_time_days", k["booking_lead_time_days"], END)
        + [
            (date(2024, 6, 30), "review_rating", Decimal("4.7")),
            (date(2024, 12, 31), "review_rating", Decimal("4.7")),
        ]
    )
    profile = {
        "name": "QueenofSanDiego",
        "kind": "charter",
        "opening_cash": "25000.00",
        "assets": [
            {
                "kind": "vessel",
                "name": "Queen of San Diego, 65 ft motor yacht",
                "value": "640000.00",
            },
            {
                "kind": "insurance",
                "name": "Charter liability and hull policy",
                "expires": "2025-11-30",
            },
            {
                "kind": "domain",
                "name": "queenofsandiego.com",
                "expires": "2026-01-15",
                "value": "0.00",
            },
            {"kind": "website", "name": "www.queenofsandiego.com"},
            {"kind": "license", "name": "USCG certificate of inspection", "expires": "2026-02-20"},
            {
                "kind": "license",
                "name": "Port of San Diego charter operator permit",
                "expires": "2025-06-30",
            },
        ],
        "stack": [
            stack("website", "squarespace", "33.00", mfa=False, tls=True, hsts=True, backups=True),
            stack(
                "newsletter",
                "mailchimp",
                "60.00",
                mfa=True,
                tls=True,
                hsts=True,
                backups=True,
                logging=True,
                sends_mail=True,
                spf=True,
                dkim=True,
                dmarc="none",
            ),
            stack(
                "booking system",
                "fareharbor",
                "59.00",
                mfa=True,
                tls=True,
                hsts=True,
                backups=True,
                logging=True,
            ),
            stack(
                "email",
                "google workspace",
                "33.60",
                mfa=True,
                tls=True,
                hsts=True,
                backups=True,
                logging=True,
                sends_mail=True,
                spf=True,
                dkim=False,
                dmarc="none",
            ),
        ],
        "channels": [
            {
                "name": "Sailo",
                "counterparties": ["Sailo"],
                "status": "optimised",
                "commission": "0.15",
                "reviews": 38,
                "rating": "4.8",
            },
            {
                "name": "GetMyBoat",
                "counterparties": ["GetMyBoat"],
                "status": "claimed",
                "commission": "0.085",
                "reviews": 17,
                "rating": "4.7",
            },
            {
                "name": "Viator",
                "counterparties": ["Viator"],
                "status": "claimed",
                "commission": "0.20",
                "reviews": 112,
                "rating": "4.6",
            },
            {
                "name": "Google Business Profile",
                "status": "optimised",
                "reviews": 206,
                "rating": "4.7",
            },
        ],
        "kpis": [
            {"name": "utilization", "target": "0.40", "unit": "ratio"},
            {"name": "revenue_per_charter", "target": "2400.00", "unit": "USD"},
            {"name": "booking_lead_time_days", "target": "30", "unit": "days"},
            {"name": "review_rating", "target": "4.8", "unit": "stars"},
        ],
        "audience": {"email_list": 1240},
    }
    board = [
        card(
            "QOS-1",
            "Set DMARC to quarantine and enable DKIM for queenofsandiego.com",
            "todo",
            "cto",
            "2025-04-18",
            ["security", "email"],
        ),
        card(
            "QOS-2",
            "Spring wedding season email campaign",
            "doing",
            "cmo",
            "2025-04-10",
            ["email", "events"],
        ),
        card(
            "QOS-3",
            "Renew the Port of San Diego charter permit",
            "todo",
            "ceo",
            "2025-06-15",
            ["permits"],
        ),
        card(
            "QOS-4", "File Q4 2024 sales and use tax", "done", "accounting", "2025-01-31", ["tax"]
        ),
    ]
    return {"book": book, "kpis": kpis, "profile": profile, "board": board}


# --------------------------------------------------------------------------- QuickDumpNow


def gen_quickdumpnow(rng: random.Random) -> dict:
    book = Book(rng)
    season = {
        1: 0.75,
        2: 0.8,
        3: 0.95,
        4: 1.05,
        5: 1.15,
        6: 1.2,
        7: 1.15,
        8: 1.1,
        9: 1.0,
        10: 1.0,
        11: 0.9,
        12: 0.85,
    }
    loads = [
        ("minimum load", 145, 199, 3),
        ("quarter load", 245, 320, 3),
        ("half load", 380, 480, 2),
        ("three-quarter load", 520, 600, 1),
        ("full load", 620, 720, 1),
    ]
    jobs_what = [
        "garage cleanout",
        "furniture removal",
        "appliance pickup",
        "yard debris",
        "estate cleanout",
        "construction debris",
        "hot tub removal",
        "mattress pickup",
    ]

    near = dict(
        account="6300",
        category="marketing",
        counterparty="Pacific Print & Sign",
        memo="door hanger print run",
        receipt=True,
        planted=True,
    )
    book.add(date(2024, 10, 7), Decimal("-248.00"), **near)
    book.add(date(2024, 10, 9), Decimal("-248.00"), **near)  # the invoice paid twice
    book.add(
        date(2024, 10, 21),
        Decimal("-4800.00"),
        "6500",
        "vehicle",
        "Miramar Truck & Diesel",
        "transmission rebuild",
        receipt=True,
        planted=True,
    )
    book.add(
        date(2024, 8, 9),
        Decimal("-23.47"),
        "5400",
        "supplies",
        XSS_COUNTERPARTY,
        "work gloves",
        receipt=True,
        planted=True,
    )
    book.add(
        date(2024, 12, 6),
        Decimal("-64.20"),
        "5400",
        "",
        "Home Depot",
        "ratchet straps",
        receipt=True,
        planted=True,
    )
    book.add(
        date(2025, 2, 11),
        Decimal("-38.00"),
        "7900",
        "misc",
        "City of San Diego",
        "parking citation",
        receipt=True,
        planted=True,
    )
    book.add(
        date(2025, 1, 17),
        Decimal("-92.60"),
        "6410",
        "meals",
        "Phil's BBQ",
        "crew lunch after estate job",
        receipt=False,
        planted=True,
    )

    kpi_jobs, kpi_ticket, kpi_cpl = {}, {}, {}
    for y, m in month_range(START, END):
        workdays = [d for d in month_days(y, m) if d.weekday() < 6]
        n = round(44 * season[m] + rng.uniform(-3, 3))
        total, since_dump = ZERO, 0
        for d in sorted(rng.choice(workdays) for _ in range(n)):
            name, lo, hi, _ = rng.choices(loads, [w for *_, w in loads])[0]
            price = money(rng.randint(lo, hi))
            total += price
            book.add(d, price, "4100", "job", customer(rng), f"{name}, {rng.choice(jobs_what)}")
            since_dump += 1
            if since_dump >= 2 or name in ("full load", "three-quarter load"):
                book.expense(
                    d,
                    "5100",
                    "dump fees",
                    rng.choices(
                        ["Miramar Landfill", "Otay Landfill", "EDCO Transfer Station"], [6, 2, 2]
                    )[0],
                    48,
                    190,
                    "tipping fee",
                )
                since_dump = 0
        for d in weekdays(date(y, m, 1), month_end(y, m), rng.choice([1, 3])):
            book.expense(
                d, "5000", "fuel", rng.choice(["Chevron", "Arco", "Shell"]), 90, 190, "truck diesel"
            )
            if rng.random() < 0.5:
                book.expense(
                    d + timedelta(days=2),
                    "5000",
                    "fuel",
                    rng.choice(["Chevron", "Arco"]),
                    70,
                    140,
                    "truck diesel",
                )
        for d in weekdays(date(y, m, 1), month_end(y, m), 4):
            book.expense(d, "5200", "labor", "Gusto", 420, 760, "helper wages, weekly")
        book.add(
            month_end(y, m),
            -(total * Decimal("0.026") + Decimal("0.10") * n),
            "5300",
            "merchant fees",
            "Square",
            f"card fees {y}-{m:02d}",
        )
        for _ in range(rng.randint(1, 3)):
            book.expense(
                pick_day(rng, y, m, 1),
                "5400",
                "supplies",
                rng.choice(["Home Depot", "Lowe's", "Harbor Freight"]),
                15,
                90,
                rng.choice(["moving blankets", "contractor bags", "tarps", "dolly wheels"]),
            )
        for _ in range(rng.randint(2, 4)):
            book.expense(
                pick_day(rng, y, m, 1),
                "6500",
                "vehicle",
                rng.choice(["Jiffy Lube", "Discount Tire", "Miramar Truck & Diesel", "AutoZone"]),
                60,
                200,
                rng.choice(
                    [
                        "oil change",
                        "tire rotation",
                        "brake pads",
                        "wiper blades and filters",
                        "battery",
                        "inspection",
                    ]
                ),
            )
        ads = ZERO
        for _ in range(rng.randint(2, 3)):
            row = book.expense(
                pick_day(rng, y, m, 1),
                "6300",
                "marketing",
                "Google Ads",
                240,
                420,
                "local services ads",
            )
            ads -= row.amount if row else ZERO
        leads_paid = rng.randint(6, 14)
        for _ in range(leads_paid):
            row = book.expense(
                pick_day(rng, y, m, 1),
                "6310",
                "lead fees",
                rng.choice(["Thumbtack", "Yelp"]),
                18,
                65,
                "lead fee",
            )
            ads -= row.amount if row else ZERO
        for _ in range(rng.randint(1, 2)):
            book.expense(
                pick_day(rng, y, m, 1),
                "6410",
                "meals",
                rng.choice(["Rubio's", "Phil's BBQ", "Chipotle"]),
                25,
                105,
                "crew lunch",
            )
        leads = round(n * rng.uniform(2.1, 2.7))
        kpi_jobs[(y, m)] = (Decimal(n) / len(workdays)).quantize(CENT)
        kpi_ticket[(y, m)] = money(total / n)
        kpi_cpl[(y, m)] = money(ads / leads)

    book.monthly("6000", "payroll", "Gusto", {(2024, 1): "1850.00"}, 15, "owner salary, net")
    book.monthly("6000", "payroll", "Gusto", {(2024, 1): "1850.00"}, 31, "owner salary, net")
    book.monthly(
        "6510", "vehicle lease", "Penske Truck Leasing", {(2024, 1): "890.00"}, 5, "box truck lease"
    )
    book.monthly(
        "6100",
        "insurance",
        "Golden State Commercial Auto",
        {(2024, 1): "640.00", (2024, 9): "668.00"},
        8,
        "commercial auto premium",
    )
    book.monthly(
        "6100",
        "insurance",
        "Coastal Business Insurance",
        {(2024, 1): "95.00"},
        12,
        "general liability premium",
    )
    book.monthly(
        "6200",
        "software",
        "Jobber",
        {(2024, 1): "65.00", (2025, 1): "69.00"},
        9,
        "scheduling and invoicing",
    )
    book.monthly("6200", "software", "Google Workspace", {(2024, 1): "7.20", (2025, 1): "8.40"}, 6)
    book.monthly(
        "6200", "software", "QuickBooks Online", {(2024, 1): "35.00", (2025, 1): "38.00"}, 20
    )
    book.monthly("6250", "phone", "T-Mobile", {(2024, 1): "78.00"}, 18)
    book.monthly(
        "6600",
        "parking",
        "Miramar Self Storage & Parking",
        {(2024, 1): "350.00"},
        1,
        "truck parking",
    )
    book.monthly(
        "6700",
        "professional fees",
        "Mesa Bookkeeping",
        {(2024, 1): "250.00"},
        25,
        "monthly bookkeeping",
    )
    book.monthly("7900", "bank fees", "US Bank", {(2024, 1): "12.00"}, 24, "monthly service fee")
    book.add(
        date(2024, 5, 14),
        Decimal("-1184.00"),
        "6900",
        "licenses & permits",
        "California DMV",
        "truck registration",
    )
    book.add(
        date(2024, 2, 2),
        Decimal("-185.00"),
        "6900",
        "licenses & permits",
        "City of San Diego",
        "business tax certificate",
    )
    book.add(
        date(2025, 1, 31),
        Decimal("-192.00"),
        "6900",
        "licenses & permits",
        "City of San Diego",
        "business tax certificate",
    )
    book.add(
        date(2024, 3, 8),
        Decimal("-650.00"),
        "6710",
        "tax preparation",
        "Mesa Bookkeeping",
        "2023 tax return",
    )
    book.add(
        date(2025, 3, 7),
        Decimal("-675.00"),
        "6710",
        "tax preparation",
        "Mesa Bookkeeping",
        "2024 tax return",
    )
    book.add(
        date(2024, 11, 2),
        Decimal("-13.98"),
        "6200",
        "software",
        "Namecheap",
        "quickdumpnow.com renewal",
    )

    kpis = (
        monthly_kpi_rows("jobs_per_truck_day", kpi_jobs, END)
        + monthly_kpi_rows("average_ticket", kpi_ticket, END)
        + monthly_kpi_rows("cost_per_lead", kpi_cpl, date(2024, 11, 30))
    )
    profile = {
        "name": "QuickDumpNow",
        "kind": "junk_removal",
        "opening_cash": opening_cash(book.rows, Decimal("12000")),
        "assets": [
            {
                "kind": "vehicle",
                "name": "2019 Isuzu NPR box truck, CA registration",
                "expires": "2025-05-15",
                "value": "38000.00",
            },
            {"kind": "insurance", "name": "Commercial auto policy", "expires": "2025-08-31"},
            {
                "kind": "domain",
                "name": "quickdumpnow.com",
                "expires": "2025-11-02",
                "value": "0.00",
            },
            {"kind": "website", "name": "www.quickdumpnow.com"},
            {
                "kind": "license",
                "name": "City of San Diego business tax certificate",
                "expires": "2026-01-31",
            },
        ],
        "stack": [
            stack("website", "wix", "27.00", mfa=False, tls=True, hsts=False, backups=True),
            stack(
                "scheduling",
                "jobber",
                "69.00",
                mfa=True,
                tls=True,
                hsts=True,
                backups=True,
                logging=True,
                sends_mail=True,
                spf=True,
                dkim=True,
                dmarc="quarantine",
            ),
            stack(
                "email",
                "google workspace",
                "8.40",
                mfa=False,
                tls=True,
                hsts=True,
                backups=True,
                logging=True,
                sends_mail=True,
                spf=True,
                dkim=True,
                dmarc="quarantine",
            ),
        ],
        "channels": [
            {
                "name": "Google Business Profile",
                "status": "optimised",
                "reviews": 187,
                "rating": "4.9",
            },
            {
                "name": "Yelp",
                "counterparties": ["Yelp"],
                "status": "claimed",
                "reviews": 64,
                "rating": "4.6",
            },
            {
                "name": "Thumbtack",
                "counterparties": ["Thumbtack"],
                "status": "claimed",
                "reviews": 29,
                "rating": "4.8",
            },
            {"name": "Angi", "counterparties": ["Angi"], "status": "absent"},
        ],
        "kpis": [
            {"name": "jobs_per_truck_day", "target": "2.5", "unit": "jobs"},
            {"name": "average_ticket", "target": "375.00", "unit": "USD"},
            {"name": "cost_per_lead", "target": "12.00", "unit": "USD"},
        ],
    }
    board = [
        card(
            "QDN-1",
            "Renew the truck registration at the DMV",
            "todo",
            "ceo",
            "2025-05-01",
            ["vehicle", "compliance"],
        ),
        card(
            "QDN-2",
            "Claim and complete the Angi profile",
            "todo",
            "cmo",
            "2025-04-25",
            ["channels"],
        ),
        card(
            "QDN-3",
            "Get a second quote before the next major truck repair",
            "done",
            "cfo",
            "2024-11-15",
            ["vehicle", "cost"],
        ),
    ]
    return {"book": book, "kpis": kpis, "profile": profile, "board": board}


# --------------------------------------------------------------------------- DangerousCentaur


def gen_dangerouscentaur(rng: random.Random) -> dict:
    book = Book(rng)
    plans = [Decimal("29"), Decimal("49"), Decimal("99"), Decimal("199")]
    customers = [(rng.choices(plans, [4, 4, 2, 1])[0], rng.randint(1, 28)) for _ in range(14)]

    book.add(
        date(2024, 11, 19),
        Decimal("-54.99"),
        "7900",
        "",
        "Amazon",
        "USB-C hub and cables",
        receipt=True,
        planted=True,
    )

    mrr_kpi, churn_kpi = {}, {}
    pending: list[Decimal] = []
    for y, m in month_range(START, END):
        at_start = len(customers)
        churned = [c for c in customers if rng.random() < 0.035]
        for c in churned:
            customers.remove(c)
        growth = rng.choices([0, 1, 2, 3], [2, 4, 3, 1])[0] + (
            2 if (y, m) == (2024, 9) else 0
        )  # Product Hunt
        customers += [
            (rng.choices(plans, [4, 4, 2, 1])[0], rng.randint(1, 28)) for _ in range(growth)
        ]
        mrr = sum((p for p, _ in customers), ZERO)
        mrr_kpi[(y, m)] = money(mrr)
        churn_kpi[(y, m)] = (Decimal(len(churned)) / at_start).quantize(Decimal("0.001"))
        # Each customer is charged on its billing day; Stripe pays out on Tuesdays and Fridays.
        for d in month_days(y, m):
            pending += [p for p, bill_day in customers if bill_day == d.day]
            if d.weekday() in (1, 4) and pending:
                book.add(
                    d,
                    sum(pending, ZERO),
                    "4200",
                    "subscription",
                    "Stripe",
                    f"Stripe payout: {len(pending)} subscription charge{'s' if len(pending) > 1 else ''}",
                )
                pending = []
        book.add(
            month_end(y, m),
            -(mrr * Decimal("0.029") + Decimal("0.30") * len(customers)),
            "5200",
            "payment processing",
            "Stripe",
            f"card fees {y}-{m:02d}",
        )
        book.expense(
            date(y, m, 3),
            "5500",
            "hosting",
            "Amazon Web Services",
            440 + 3 * len(customers),
            520 + 4 * len(customers),
            "api, database, email (SES)",
        )
        book.add(date(y, m, 14), Decimal("-20.00"), "5500", "hosting", "Vercel", "marketing site")
        for d in (date(y, m, 1), date(y, m, 16)):
            book.expense(
                d,
                "6750",
                "contractors",
                "R. Kowalczyk",
                1650,
                2150,
                "contract development, half month",
            )
        book.expense(
            date(y, m, rng.randint(20, 28)),
            "6300",
            "marketing",
            "Google Ads",
            150,
            450,
            "search ads",
        )
        if rng.random() < 0.5:
            book.expense(
                date(y, m, rng.randint(5, 15)),
                "6300",
                "marketing",
                "LinkedIn Ads",
                120,
                380,
                "sponsored posts",
            )
        if rng.random() < 0.4:
            book.expense(
                pick_day(rng, y, m, 1),
                "6410",
                "meals",
                rng.choice(["Blue Bottle", "Sushi Ota", "Starbucks"]),
                18,
                48,
                "customer call over coffee",
            )

    book.monthly("6200", "software", "GitHub", {(2024, 1): "36.00"}, 7, "team plan")
    book.monthly("6200", "software", "Linear", {(2024, 1): "40.00"}, 11)
    book.monthly("6200", "software", "Figma", {(2024, 1): "45.00"}, 15)
    book.monthly("6200", "software", "Sentry", {(2024, 1): "26.00"}, 19)
    book.monthly("6200", "software", "1Password", {(2024, 1): "19.95"}, 22)
    book.monthly(
        "6200", "software", "Google Workspace", {(2024, 1): "28.80", (2025, 1): "33.60"}, 13
    )
    book.monthly(
        "6100",
        "insurance",
        "Coastal Business Insurance",
        {(2024, 1): "79.00"},
        10,
        "cyber and liability",
    )
    for q in (
        (2024, 1, 25),
        (2024, 4, 25),
        (2024, 7, 25),
        (2024, 10, 25),
        (2025, 1, 24),
        (2025, 4, 25),
    ):
        book.add(
            date(*q),
            Decimal("-450.00"),
            "6700",
            "professional fees",
            "Ledgerline Accounting",
            "quarterly bookkeeping",
        )
    book.add(
        date(2024, 3, 5),
        Decimal("-1500.00"),
        "6720",
        "legal",
        "Harborview Legal",
        "terms of service and DPA",
    )
    book.add(
        date(2024, 6, 11),
        Decimal("-286.40"),
        "6400",
        "travel",
        "Alaska Airlines",
        "flight to SaaS conference",
    )
    book.add(
        date(2024, 6, 12),
        Decimal("-438.00"),
        "6400",
        "travel",
        "Hyatt",
        "conference hotel, 2 nights",
    )
    book.add(
        date(2024, 6, 12), Decimal("-399.00"), "6400", "travel", "SaaS North", "conference ticket"
    )
    book.add(date(2024, 6, 14), Decimal("-48.20"), "6400", "travel", "Lyft", "airport rides")
    book.add(
        date(2024, 9, 18),
        Decimal("-13.98"),
        "6200",
        "software",
        "Namecheap",
        "dangerouscentaur.com renewal",
    )
    book.add(
        date(2025, 3, 2),
        Decimal("-99.00"),
        "6900",
        "licenses & permits",
        "Apple",
        "developer program",
    )

    kpis = monthly_kpi_rows("mrr", mrr_kpi, END) + monthly_kpi_rows(
        "churn", churn_kpi, date(2025, 2, 28)
    )
    profile = {
        "name": "DangerousCentaur",
        "kind": "software",
        "opening_cash": opening_cash(book.rows, Decimal("-6000")),
        "assets": [
            {
                "kind": "domain",
                "name": "dangerouscentaur.com",
                "expires": "2025-09-18",
                "value": "0.00",
            },
            {"kind": "website", "name": "www.dangerouscentaur.com"},
            {"kind": "repo", "name": "github.com/dangerouscentaur/app"},
            {"kind": "account", "name": "AWS account (us-west-2)"},
            {"kind": "license", "name": "Apple Developer Program", "expires": "2026-03-02"},
        ],
        "stack": [
            stack(
                "api",
                "aws",
                "310.00",
                hosting="self_hosted",
                mfa=True,
                tls=True,
                hsts=True,
                backups=False,
                dependency_updates=True,
                logging=True,
                secrets_in_repo=True,
                ci=True,
                tests=True,
                auto_deploy=True,
            ),
            stack(
                "database",
                "aws",
                "175.00",
                hosting="managed",
                mfa=True,
                tls=True,
                hsts=False,
                backups=True,
                logging=True,
            ),
            stack(
                "transactional email",
                "aws ses",
                "12.00",
                mfa=True,
                tls=True,
                logging=True,
                sends_mail=True,
                spf=True,
                dkim=True,
                dmarc="quarantine",
            ),
            stack(
                "marketing site",
                "vercel",
                "20.00",
                hosting="managed",
                mfa=False,
                tls=True,
                hsts=True,
                backups=False,
                ci=False,
                tests=False,
            ),
        ],
        "channels": [
            {"name": "Product Hunt", "status": "claimed", "reviews": 23, "rating": "4.7"},
            {"name": "G2", "status": "absent"},
            {
                "name": "AWS Marketplace",
                "counterparties": ["AWS Marketplace"],
                "status": "absent",
                "commission": "0.03",
            },
        ],
        "kpis": [
            {"name": "mrr", "target": "5000.00", "unit": "USD"},
            {"name": "churn", "target": "0.03", "unit": "ratio"},
            {"name": "cac", "target": "300.00", "unit": "USD"},
        ],
        "audience": {"email_list": 860},
    }
    board = [
        card(
            "DC-1",
            "Rotate the AWS keys committed to the app repo",
            "doing",
            "cto",
            "2025-04-04",
            ["security"],
        ),
        card(
            "DC-2",
            "Add CI and tests to the marketing site",
            "todo",
            "cto",
            "2025-05-15",
            ["engineering"],
        ),
        card(
            "DC-3",
            "Cover the overdraft: bridge funding or cut contractor hours",
            "todo",
            "cfo",
            "2025-04-15",
            ["cash", "critical"],
        ),
        card("DC-4", "Launch on Product Hunt", "done", "cmo", "2024-09-24", ["launch"]),
    ]
    return {"book": book, "kpis": kpis, "profile": profile, "board": board}


# --------------------------------------------------------------------------- writers

STACK_FLAGS = (
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
)
STACK_AFTER = ("ci", "tests", "auto_deploy")


def stack(
    name: str,
    provider: str,
    monthly_cost: str,
    dmarc: str = "none",
    hosting: str = "saas",
    domain: str = "",
    **flags: bool,
) -> dict:
    """A [[stack]] item. `hosting` says which checks apply (METRICS.md, cto); ci, tests and
    auto_deploy are written only when given: CI/CD applies to code the business builds."""
    item: dict = {"name": name, "provider": provider, "hosting": hosting}
    if domain:
        item["domain"] = domain
    item["monthly_cost"] = monthly_cost
    for f in STACK_FLAGS:
        item[f] = flags.pop(f, False)
    item["dmarc"] = dmarc
    for f in STACK_AFTER:
        if f in flags:
            item[f] = flags.pop(f)
    assert not flags, flags
    return item


def card(card_id: str, title: str, column: str, owner: str, due: str, labels: list[str]) -> dict:
    return {
        "id": card_id,
        "title": title,
        "column": column,
        "owner": owner,
        "due": due,
        "labels": labels,
    }


def toml_value(key: str, value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if key == "rating":  # a number in the format, kept exact here
        return str(value)
    return json.dumps(value)  # a TOML basic string: same escapes as JSON for this text


def write_toml(path: Path, profile: dict) -> None:
    lines = [f"# {profile['name']}: example data, written by examples/generate.py", ""]
    for k in ("name", "kind"):
        lines.append(f"{k} = {toml_value(k, profile[k])}")
    lines.append('currency = "USD"')
    lines.append(f"opening_cash = {toml_value('opening_cash', profile['opening_cash'])}")
    lines.append('opening_date = "2024-01-01"')
    for table in ("assets", "stack", "channels", "kpis"):
        for item in profile[table]:
            lines += ["", f"[[{table}]]"]
            lines += [f"{k} = {toml_value(k, v)}" for k, v in item.items()]
    if "audience" in profile:
        lines += ["", "[audience]"] + [
            f"{k} = {toml_value(k, v)}" for k, v in profile["audience"].items()
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_entity(key: str, out: dict) -> None:
    folder = DATA / key
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    write_toml(folder / "entity.toml", out["profile"])
    rows = sorted(out["book"].rows, key=lambda r: r.date)
    write_csv(folder / "ledger.csv", HEADER, [r.cells() for r in rows])
    kpis = sorted(out["kpis"], key=lambda k: (k[0], k[1]))
    write_csv(
        folder / "kpis.csv",
        ["date", "kpi", "value"],
        [[d.isoformat(), k, str(v)] for d, k, v in kpis],
    )
    board = {
        "cards": [
            {
                "id": c["id"],
                "title": c["title"],
                "column": c["column"],
                "entity": key,
                "owner": c["owner"],
                "due": c["due"],
                "labels": c["labels"],
            }
            for c in out["board"]
        ]
    }
    (folder / "board.json").write_text(json.dumps(board, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- self-check

AMOUNT_RE = re.compile(r"^-?\d+\.\d{2}$")
UNCATEGORIZED = {"", "uncategorized", "misc", "miscellaneous", "other", "ask my accountant"}


def load(key: str) -> dict:
    """Read an entity folder back the way the project does, failing on any unreadable cell."""
    folder = DATA / key
    profile = tomllib.loads((folder / "entity.toml").read_text(encoding="utf-8"))
    rows = []
    with (folder / "ledger.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER, reader.fieldnames
        for line, r in enumerate(reader, start=2):
            assert AMOUNT_RE.match(r["amount"]), f"{key}/ledger.csv:{line}: amount {r['amount']!r}"
            rows.append(
                {
                    **r,
                    "date": date.fromisoformat(r["date"]),
                    "amount": Decimal(r["amount"]),
                    "service_date": date.fromisoformat(r["service_date"])
                    if r["service_date"]
                    else None,
                    "entity": key,
                }
            )
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows), f"{key}: ledger not sorted"
    with (folder / "kpis.csv").open(encoding="utf-8", newline="") as f:
        kpis = [
            {**r, "date": date.fromisoformat(r["date"]), "value": Decimal(r["value"])}
            for r in csv.DictReader(f)
        ]
    board = json.loads((folder / "board.json").read_text(encoding="utf-8"))
    assert (
        AMOUNT_RE.match(profile["opening_cash"])
        and date.fromisoformat(profile["opening_date"]) == START
    )
    for a in profile.get("assets", []):
        assert "expires" not in a or date.fromisoformat(a["expires"])
        assert "value" not in a or AMOUNT_RE.match(a["value"])
    for item in profile.get("stack", []):
        assert AMOUNT_RE.match(item["monthly_cost"]) and item["dmarc"] in (
            "none",
            "quarantine",
            "reject",
        )
    for c in profile.get("channels", []):
        assert c["status"] in ("absent", "claimed", "optimised")
    for c in board["cards"]:
        assert (
            date.fromisoformat(c["due"])
            and c["entity"] == key
            and c["column"] in ("todo", "doing", "done")
        )
        assert c["owner"] in ("ceo", "cto", "cfo", "cmo", "accounting")
    return {"profile": profile, "rows": rows, "kpis": kpis, "board": board}


def account_class(account: str) -> str | None:
    return account[0] if re.fullmatch(r"\d{4}", account) else None


def finance(rows: list[dict], opening_cash: Decimal, as_of: date) -> dict:
    cash = opening_cash + sum((r["amount"] for r in rows if START <= r["date"] <= as_of), ZERO)
    last = (
        as_of
        if as_of == month_end(as_of.year, as_of.month)
        else date(as_of.year, as_of.month, 1) - timedelta(1)
    )
    months = month_range(date(last.year - 1, last.month, 1), last)[-3:]
    window = [r for r in rows if (r["date"].year, r["date"].month) in months]
    revenue = sum((r["amount"] for r in window if account_class(r["account"]) == "4"), ZERO)
    cogs = -sum((r["amount"] for r in window if account_class(r["account"]) == "5"), ZERO)
    opex = -sum((r["amount"] for r in window if account_class(r["account"]) in ("6", "7")), ZERO)
    net_burn = ((cogs + opex - revenue) / 3).quantize(CENT)
    runway = (max(cash, ZERO) / net_burn).quantize(CENT) if net_burn > 0 else None
    return {"cash": cash, "revenue_3m": revenue, "net_burn_3m": net_burn, "runway_months": runway}


def audit(rows: list[dict], as_of: date) -> dict:
    start = date(
        as_of.year - 1, as_of.month, min(as_of.day, month_end(as_of.year - 1, as_of.month).day)
    )
    window = [r for r in rows if start < r["date"] <= as_of]
    expenses = [
        r for r in window if r["amount"] < 0 and account_class(r["account"]) in ("5", "6", "7")
    ]
    groups: dict[tuple, int] = {}
    for r in expenses:
        k = (r["date"], r["amount"], norm(r["counterparty"]))
        groups[k] = groups.get(k, 0) + 1
    duplicates = sum(n - 1 for n in groups.values())
    near = 0
    for i, a in enumerate(expenses):
        for b in expenses[i + 1 :]:
            if (norm(a["counterparty"]), a["amount"]) == (
                norm(b["counterparty"]),
                b["amount"],
            ) and 1 <= abs((a["date"] - b["date"]).days) <= 3:
                near += 1
    uncategorized = [
        r
        for r in window
        if r["category"].strip().lower() in UNCATEGORIZED
        or not re.fullmatch(r"\d{4}", r["account"])
    ]
    outliers = []
    by_cat: dict[str, list[dict]] = {}
    for r in expenses:
        by_cat.setdefault(r["category"].strip().lower(), []).append(r)
    for rs in by_cat.values():
        xs = sorted(-r["amount"] for r in rs)
        if len(xs) < 5:
            continue
        med = median(xs)
        mad = median(sorted(abs(x - med) for x in xs))
        if mad > 0:
            outliers += [
                r for r in rs if Decimal("0.6745") * abs(-r["amount"] - med) / mad > Decimal("3.5")
            ]
    missing = [
        r
        for r in expenses
        if -r["amount"] >= 75
        and not r["receipt"]
        and r["category"].strip().lower()
        in {"travel", "meals", "entertainment", "gifts", "vehicle"}
    ]
    unearned = [
        r
        for r in rows
        if account_class(r["account"]) == "4"
        and r["service_date"]
        and r["date"] <= as_of < r["service_date"]
    ]
    return {
        "duplicate_rows": duplicates,
        "near_duplicate_pairs": near,
        "uncategorized": uncategorized,
        "outliers": outliers,
        "missing_receipts": missing,
        "unearned": unearned,
        "unearned_revenue": sum((r["amount"] for r in unearned), ZERO),
    }


def median(xs: list[Decimal]) -> Decimal:
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def show(r: dict) -> str:
    return (
        f"{r['entity']}: {r['date']} {r['amount']} {r['account']} {r['category']!r} "
        f"{r['counterparty']!r} receipt={r['receipt']!r}"
    )


def self_check() -> None:
    loaded = {key: load(key) for key in KEYS}
    print(f"as_of {AS_OF}: cash and trailing-3-month net burn (Jan-Mar 2025, per month)")
    total_cash, total_burn, everything = ZERO, ZERO, []
    figures = {}
    for key, e in loaded.items():
        f = finance(e["rows"], Decimal(e["profile"]["opening_cash"]), AS_OF)
        figures[key] = f
        total_cash += f["cash"]
        total_burn += f["net_burn_3m"]
        everything += e["rows"]
        print(
            f"  {key:17} cash {f['cash']:>10}  net_burn_3m {f['net_burn_3m']:>9}  runway {f['runway_months']}"
        )
        weeks: dict[tuple, int] = {}
        for r in e["rows"]:
            weeks[r["date"].isocalendar()[:2]] = weeks.get(r["date"].isocalendar()[:2], 0) + 1
        weeks.pop(END.isocalendar()[:2], None)  # a one-day week
        assert len(weeks) == 78 and min(weeks.values()) >= 2, (key, len(weeks), min(weeks.values()))
    print(
        f"  {'consolidated':17} cash {total_cash:>10}  net_burn_3m {total_burn:>9}  "
        f"runway {(total_cash / total_burn).quantize(CENT)}"
    )
    assert total_cash > 0
    assert Decimal(7000) <= total_burn <= Decimal(9000), total_burn
    assert figures["dangerouscentaur"]["cash"] < 0
    assert figures["jada"]["cash"] > 0 and figures["jada"]["runway_months"] < 6
    assert any(f["net_burn_3m"] < 0 for f in figures.values())

    print("accounting audit (12 months to as_of)")
    expected = {  # duplicate, near-duplicate, uncategorized, outliers, missing receipts
        "jada": (1, 0, 1, 0, 1),
        "queenofsandiego": (0, 0, 0, 0, 1),
        "quickdumpnow": (0, 1, 2, 1, 1),
        "dangerouscentaur": (0, 0, 1, 0, 0),
        "consolidated": (1, 1, 4, 1, 3),
    }
    for key, rows in [*((k, e["rows"]) for k, e in loaded.items()), ("consolidated", everything)]:
        a = audit(rows, AS_OF)
        got = (
            a["duplicate_rows"],
            a["near_duplicate_pairs"],
            len(a["uncategorized"]),
            len(a["outliers"]),
            len(a["missing_receipts"]),
        )
        print(
            f"  {key:17} duplicates {got[0]}  near-duplicate pairs {got[1]}  uncategorized {got[2]}  "
            f"outliers {got[3]}  missing receipts {got[4]}  unearned {a['unearned_revenue']} "
            f"({len(a['unearned'])} rows)"
        )
        for r in a["outliers"]:
            print("    outlier", show(r))
        assert got == expected[key], (key, got, expected[key])

    print("ceo: assets expired / expiring in 60 days, kpi coverage")
    for key, e in loaded.items():
        assets = e["profile"].get("assets", [])
        exp = [a for a in assets if "expires" in a and date.fromisoformat(a["expires"]) < AS_OF]
        soon = [
            a
            for a in assets
            if "expires" in a
            and AS_OF <= date.fromisoformat(a["expires"]) <= AS_OF + timedelta(days=60)
        ]
        declared = [k["name"] for k in e["profile"].get("kpis", [])]
        fresh = {k["kpi"] for k in e["kpis"] if AS_OF - timedelta(days=29) <= k["date"] <= AS_OF}
        assert {k["kpi"] for k in e["kpis"]} <= set(declared)
        covered = [k for k in declared if k in fresh]
        print(
            f"  {key:17} expired {[a['name'] for a in exp]}  expiring {[a['name'] for a in soon]}  "
            f"kpis {len(covered)}/{len(declared)} fresh"
        )
        assert 0 < len(covered) < len(declared)
    print("planted:")
    for line in PLANTED:
        print(f"  {line}")


def finish_jada(outputs: dict) -> None:
    """Book JADA's 2025 haul-out and set its opening cash.

    The haul-out is sized so that the holding burns about HOLDING_BURN_Q1 a month over the
    trailing 3 months; the opening cash leaves JADA with about JADA_CASH on as_of.
    """
    book = outputs["jada"]["book"]
    burn = sum((burn_3m(out["book"].rows) for out in outputs.values()), ZERO)
    haul = ((3 * HOLDING_BURN_Q1 - burn) / 10).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * 10
    assert Decimal(2000) <= haul <= Decimal(7000), haul
    book.add(
        date(2025, 2, 12),
        -haul,
        "6830",
        "haul-out",
        "Shelter Island Boatyard",
        "haul-out: bottom paint, zincs, cutlass bearing",
    )
    outputs["jada"]["profile"]["opening_cash"] = opening_cash(book.rows, JADA_CASH)


def main() -> None:
    rng = random.Random(2025)
    # One stream per entity, drawn from the seed, so a change to one entity leaves the others be.
    streams = [random.Random(rng.getrandbits(64)) for _ in KEYS]
    Book.seen = {}
    generators = (gen_jada, gen_queenofsandiego, gen_quickdumpnow, gen_dangerouscentaur)
    outputs = {key: gen(stream) for key, gen, stream in zip(KEYS, generators, streams, strict=True)}
    finish_jada(outputs)
    for key, out in outputs.items():
        write_entity(key, out)
        print(f"wrote {(DATA / key).relative_to(HERE.parent)}: {len(out['book'].rows)} ledger rows")
    self_check()


if __name__ == "__main__":
    main()
