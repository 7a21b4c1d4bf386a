"""Accounting: chart of accounts, expense audit by category, revenue recognition, the
deferred-revenue roll-forward and the milestone roadmap to profitability."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execreport import hookimpl, read_settings

if TYPE_CHECKING:
    from .cfo import PlanSettings

VALID = "regexp_full_match(account, '[0-9]{4}')"
EXPENSE = f"amount < 0 AND {VALID} AND left(account, 1) IN ('5', '6', '7')"
# white space as Python's str.split() and str.strip() see it, not only ASCII blanks
WS_CHARS = "".join(chr(c) for c in range(0x3000 + 1) if chr(c).isspace())
WS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WS_CHARS) + "]"


def strip(expr: str) -> str:
    """SQL: `expr` with leading and trailing white space removed (Python's str.strip()).
    The full trim runs only for the rare value that starts or ends with white space."""
    edge = f"contains('{WS_CHARS}', left({expr}, 1)) OR contains('{WS_CHARS}', right({expr}, 1))"
    return f"(CASE WHEN {expr} <> '' AND ({edge}) THEN trim({expr}, '{WS_CHARS}') ELSE {expr} END)"


# a counterparty compares normalized: lower case, trimmed, inner white space collapsed
_COLLAPSED = f"regexp_replace(counterparty, '{WS}+', ' ', 'g')"
NORM_CP = f"lower({strip(_COLLAPSED)})"
UNCATEGORIZED = ("uncategorized", "misc", "miscellaneous", "other", "ask my accountant")
RECEIPT_CATEGORIES = ("travel", "meals", "entertainment", "gifts", "vehicle")
RECEIPT_THRESHOLD = Decimal("75.00")
# the expense flags, as counted per category (ExpenseFlags.by_category)
FLAG_KEYS = ("duplicates", "near_duplicates", "outliers", "missing_receipts", "personal")
GIFT_CARD = "gift[ -]?(card|certificate|cert)"

# `[roles.accounting]` keys and their defaults (docs/roles.md, "Accounting")
DEFAULTS: dict[str, Any] = {
    "personal_keywords": [
        "netflix",
        "spotify",
        "amazon prime",
        "apple.com/bill",
        "doordash",
        "uber eats",
        "venmo",
        "liquor",
        "golf",
    ],
    "max_listed": 10,  # rows listed per kind of finding and entity; the counts are complete
    "due_days": {"critical": 7, "warning": 14, "info": 30},
    "target_month": None,  # the roadmap's, when no CFO report is built in the run
    "target_monthly_profit": "0",
}

# the figures the "Changes since the last report" section compares: (key, kind); the
# template names them
KEY_FIGURES = (
    ("duplicate_rows", "count"),
    ("near_duplicate_pairs", "count"),
    ("uncategorized_rows", "count"),
    ("outlier_rows", "count"),
    ("missing_receipt_rows", "count"),
    ("personal_rows", "count"),
    ("unearned_revenue", "money"),
    ("gift_card_rows", "count"),
)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _window(as_of: date) -> str:
    from execreport import audit_window

    start, end = audit_window(as_of)
    return f"date > DATE '{start.isoformat()}' AND date <= DATE '{end.isoformat()}'"


class ExpenseFlags:
    """The expense rows of the audit window with their audit flags, computed once into
    temporary DuckDB tables that live for a `with` block and are read by every query after.

    Flags come per entity (`_e`) and over all entities (`_c`, the consolidated figures):
    duplicate: the row repeats another of its (date, amount, counterparty) group, the first
    by (category, entity, line) counting as the original, so that the counts per category
    do not depend on the order of the rows; near: the rows 1 to 3 days earlier with the
    same counterparty and amount (windows, not a self-join: linear in the rows); outlier:
    the METRICS.md modified z-score, exact (amounts in cents, 0.6745·|x − median| / MAD > 3.5
    written as 6745·|x − median| > 35000·MAD); personal: the first keyword found in the
    counterparty or memo; missing_receipt: the METRICS.md receipt rule.

    `view` has one row per expense row: entity, line, date, amount, category, counterparty,
    cp (normalized), the flags and score_e (the outlier score within the entity)."""

    _names = itertools.count(1)

    def __init__(self, ledger: Any, as_of: date, keywords: Sequence[str]) -> None:
        self.ledger = ledger
        self.as_of = as_of
        self.keywords = list(keywords)
        self.prefix = f"execreport_expense_flags_{next(self._names)}"
        self.view = self._name("v")

    def _name(self, part: str) -> str:
        return f"temp.main.{self.prefix}_{part}"

    def statements(self) -> list[str]:
        """The SQL that builds the tables, in order. Each step is its own statement: DuckDB
        frees one step's working memory before the next (one query holds them all at once).
        Entities, categories and counterparties are numbered in their own order, so the
        windows sort integers only, and a counterparty is normalized once per name."""
        t = self._name
        rows = f"""(SELECT entity, line, date, amount, coalesce(category, '') AS category,
                           coalesce(counterparty, '') AS counterparty,
                           coalesce(memo, '') AS memo, coalesce(receipt, '') AS receipt
                    FROM ledger_lines WHERE {_window(self.as_of)} AND {EXPENSE})"""
        hay = "lower(counterparty || ' ' || memo)"
        personal = (
            "CASE "
            + " ".join(f"WHEN contains({hay}, {_lit(k)}) THEN {_lit(k)}" for k in self.keywords)
            + " END"
            if self.keywords
            else "NULL::VARCHAR"
        )
        near = "ORDER BY date RANGE BETWEEN INTERVAL 3 DAY PRECEDING AND INTERVAL 1 DAY PRECEDING"
        outlier = (
            "(n_{s} >= 5 AND mad_{s} > 0 AND 6745 * CAST(4 * dev_{s} AS HUGEINT) "
            "> 35000 * CAST(4 * mad_{s} AS HUGEINT))"
        )
        return [
            f"""CREATE OR REPLACE TEMP TABLE {self.prefix}_ent AS
                SELECT entity, dense_rank() OVER (ORDER BY entity) AS e_id
                FROM (SELECT DISTINCT entity FROM {rows})""",
            f"""CREATE OR REPLACE TEMP TABLE {self.prefix}_cat AS
                SELECT category, dense_rank() OVER (ORDER BY category) AS cat_id,
                       lower({strip("category")}) IN {_in(RECEIPT_CATEGORIES)} AS receipt_cat
                FROM (SELECT DISTINCT category FROM {rows})""",
            f"""CREATE OR REPLACE TEMP TABLE {self.prefix}_cp AS
                SELECT counterparty, dense_rank() OVER (ORDER BY counterparty) AS cpr_id, cp,
                       dense_rank() OVER (ORDER BY cp) AS cp_id
                FROM (SELECT counterparty, {NORM_CP} AS cp
                      FROM (SELECT DISTINCT counterparty FROM {rows}))""",
            f"""CREATE OR REPLACE TEMP TABLE {self.prefix}_x AS
                SELECT e_id, line, date, amount, cat_id, cpr_id, cp_id,
                       CAST(abs(amount) * 100 AS BIGINT) AS cents,
                       (receipt_cat AND abs(amount) >= {RECEIPT_THRESHOLD}
                        AND {strip("receipt")} = '') AS missing_receipt,
                       {personal} AS personal
                FROM {rows} JOIN {t("ent")} USING (entity) JOIN {t("cat")} USING (category)
                  JOIN {t("cp")} USING (counterparty)""",
            f"""CREATE OR REPLACE TEMP TABLE {self.prefix}_o AS
                WITH me AS (SELECT e_id, cat_id, median(cents) AS med_e, count(*) AS n_e
                            FROM {t("x")} GROUP BY e_id, cat_id),
                mc AS (SELECT cat_id, median(cents) AS med_c, count(*) AS n_c FROM {t("x")}
                       GROUP BY cat_id),
                d AS (SELECT e_id, line, cat_id, abs(cents - med_e) AS dev_e, n_e,
                             abs(cents - med_c) AS dev_c, n_c
                      FROM {t("x")} JOIN me USING (e_id, cat_id) JOIN mc USING (cat_id)),
                ae AS (SELECT e_id, cat_id, median(dev_e) AS mad_e FROM d GROUP BY e_id, cat_id),
                ac AS (SELECT cat_id, median(dev_c) AS mad_c FROM d GROUP BY cat_id)
                SELECT e_id, line, {outlier.format(s="e")} AS outlier_e,
                       {outlier.format(s="c")} AS outlier_c,
                       CASE WHEN mad_e > 0 THEN 0.6745 * dev_e / mad_e END AS score_e
                FROM d JOIN ae USING (e_id, cat_id) JOIN ac USING (cat_id)""",
            # the consolidated windows run only over the (counterparty, amount) keys more
            # than one entity uses: for any other row they equal the entity's
            f"""CREATE OR REPLACE TEMP TABLE {self.prefix}_k AS
                WITH x AS (SELECT e_id, line, date, amount, cat_id, cp_id FROM {t("x")}),
                -- the windows run only over rows that can have a twin: a key used twice
                dk AS (SELECT e_id, date, amount, cp_id FROM x GROUP BY ALL
                       HAVING count(*) > 1),
                dx AS (SELECT e_id, line,
                              row_number() OVER (PARTITION BY e_id, date, amount, cp_id
                                                 ORDER BY cat_id, line) > 1 AS duplicate_e
                       FROM x SEMI JOIN dk USING (e_id, date, amount, cp_id)),
                nk AS (SELECT e_id, cp_id, amount FROM x GROUP BY ALL HAVING count(*) > 1),
                nx AS (SELECT e_id, line,
                              count(*) OVER (PARTITION BY e_id, cp_id, amount {near}) AS near_e
                       FROM x SEMI JOIN nk USING (e_id, cp_id, amount)),
                shared AS (SELECT cp_id, amount FROM x GROUP BY cp_id, amount
                           HAVING min(e_id) < max(e_id)),
                kc AS (SELECT e_id, line,
                              row_number() OVER (PARTITION BY date, amount, cp_id
                                                 ORDER BY cat_id, e_id, line) > 1 AS duplicate_c,
                              count(*) OVER (PARTITION BY cp_id, amount {near}) AS near_c
                       FROM (SELECT * FROM x SEMI JOIN shared USING (cp_id, amount)))
                -- sparse: only rows that have a twin somewhere; any other row has no flag
                SELECT e_id, line, duplicate_e, near_e, duplicate_c, near_c
                FROM dx FULL JOIN nx USING (e_id, line) FULL JOIN kc USING (e_id, line)""",
            f"""CREATE OR REPLACE TEMP TABLE {self.prefix}_f AS
                SELECT * EXCLUDE (cents, duplicate_e, near_e, duplicate_c, near_c),
                       coalesce(duplicate_e, false) AS duplicate_e, coalesce(near_e, 0) AS near_e,
                       -- a row no other entity's row shares a key with: as within its entity
                       coalesce(duplicate_c, duplicate_e, false) AS duplicate_c,
                       coalesce(near_c, near_e, 0) AS near_c
                FROM {t("x")} JOIN {t("o")} USING (e_id, line)
                  LEFT JOIN {t("k")} USING (e_id, line)""",
            f"DROP TABLE {t('x')}",
            f"DROP TABLE {t('o')}",
            f"DROP TABLE {t('k')}",
            f"""CREATE OR REPLACE TEMP VIEW {self.prefix}_v AS
                SELECT f.*, entity, category, counterparty, cp FROM {t("f")} f
                JOIN {t("ent")} USING (e_id) JOIN {t("cat")} USING (cat_id)
                JOIN {t("cp")} USING (cpr_id, cp_id)""",
        ]

    def __enter__(self) -> ExpenseFlags:
        for statement in self.statements():
            self.ledger.sql(statement)
        return self

    def __exit__(self, *exc: object) -> None:
        self.ledger.sql(f"DROP VIEW IF EXISTS {self.view}")
        for part in ("f", "x", "o", "k", "cp", "cat", "ent"):
            self.ledger.sql(f"DROP TABLE IF EXISTS {self._name(part)}")

    def by_category(self, consolidated: bool) -> dict[str, list[dict[str, Any]]]:
        """Per entity (or `consolidated`), one row per expense category: rows, total and
        the count of each flag (they add up to the METRICS.md figures)."""
        s = "c" if consolidated else "e"
        group = "0" if consolidated else "e_id"
        scope = "'consolidated'" if consolidated else "entity"
        rows = self.ledger.sql(
            f"""WITH a AS (
                  SELECT {group} AS e_id, cat_id, count(*) AS n, sum(amount) AS total,
                         count(*) FILTER (duplicate_{s}) AS dup,
                         coalesce(sum(near_{s}), 0) AS near,
                         count(*) FILTER (outlier_{s}) AS outl,
                         count(*) FILTER (missing_receipt) AS miss,
                         count(*) FILTER (personal IS NOT NULL) AS pers,
                         coalesce(sum(amount) FILTER (personal IS NOT NULL), 0) AS pers_total
                  FROM {self._name("f")} GROUP BY ALL)
                SELECT {scope} AS g, category, n, total, dup, near, outl, miss, pers, pers_total
                FROM a LEFT JOIN {self._name("ent")} USING (e_id)
                  JOIN {self._name("cat")} USING (cat_id)
                ORDER BY g, total, category"""
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for g, cat, n, total, dup, near, outl, miss, pers, pers_total in rows:
            out.setdefault(g, []).append(
                {
                    "category": cat,
                    "rows": int(n),
                    "total": total,
                    "duplicates": int(dup),
                    "near_duplicates": int(near),
                    "outliers": int(outl),
                    "missing_receipts": int(miss),
                    "personal": int(pers),
                    "personal_total": pers_total,
                }
            )
        return out

    def duplicate_groups(self, cap: int) -> list[tuple]:
        """(entity, date, amount, counterparty, count, lines, first line) per duplicate
        group, at most `cap` groups per entity."""
        return self.ledger.sql(
            _per_entity(
                f"""WITH g AS (SELECT DISTINCT e_id, date, amount, cp_id FROM {self._name("f")}
                               WHERE duplicate_e)
                    SELECT entity, date, amount, arg_min(counterparty, line) AS counterparty,
                           count(*) AS n, list(line ORDER BY line) AS lines, min(line) AS line
                    FROM {self.view} JOIN g USING (e_id, date, amount, cp_id)
                    GROUP BY entity, date, amount, cp_id""",
                cap,
            )
        )

    def near_duplicates(self, cap: int) -> list[tuple]:
        """(entity, line, date, amount, counterparty, earlier lines) for rows that follow a
        row with the same counterparty and amount 1 to 3 days earlier."""
        hits = _per_entity(f"SELECT * FROM {self.view} WHERE near_e > 0", cap)
        return self.ledger.sql(
            f"""WITH h AS ({hits})
                SELECT h.entity, h.line, h.date, h.amount, h.counterparty,
                       list(f.line ORDER BY f.line)
                FROM h JOIN {self._name("f")} f ON f.e_id = h.e_id AND f.cp_id = h.cp_id
                  AND f.amount = h.amount AND f.date BETWEEN h.date - 3 AND h.date - 1
                GROUP BY h.entity, h.line, h.date, h.amount, h.counterparty
                ORDER BY h.entity, h.line"""
        )

    def rows(self, flag: str, cap: int, order: str = "line") -> list[tuple]:
        """(entity, line, date, amount, category, counterparty, score, personal keyword)
        of the rows where `flag` holds, at most `cap` per entity."""
        return self.ledger.sql(
            _per_entity(
                f"""SELECT entity, line, date, amount, category, counterparty, score_e,
                           personal
                    FROM {self.view} WHERE {flag}""",
                cap,
                order,
            )
        )


def _per_entity(query: str, cap: int, order: str = "line") -> str:
    return (
        f"SELECT * FROM ({query}) "
        f"QUALIFY row_number() OVER (PARTITION BY entity ORDER BY {order}) <= {int(cap)} "
        f"ORDER BY entity, {order}"
    )


def uncategorized_values(ledger: Any) -> list[str]:
    """The category values, as written, that METRICS.md counts as uncategorized (empty or a
    catch-all word, compared stripped and in any case): decided once per distinct value, in
    Python, so that white space and case follow Python's str.strip() and str.lower()."""
    values = [r[0] for r in ledger.sql("SELECT DISTINCT category FROM ledger")]
    return sorted(v for v in values if v.strip().lower() in ("", *UNCATEGORIZED))


def classified(source: str, uncategorized: Sequence[str] = ("",)) -> str:
    """SQL: the rows of `source` with the flags every accounting count uses, each computed
    once per row (parameters $a = as_of, $start = the audit window's exclusive start)."""
    text = "lower(category || ' ' || memo)"
    return f"""
        SELECT *, date > $start AND date <= $a AS win, cls = '4' AS rev,
               amount < 0 AND cls IN ('5', '6', '7') AS expense,
               (category IN {_in(uncategorized or [""])} OR cls IS NULL) AS uncategorized,
               CASE WHEN category ILIKE '%gift%' OR memo ILIKE '%gift%'
                    THEN regexp_matches({text}, '{GIFT_CARD}') ELSE false END AS gift
        FROM (SELECT *, CASE WHEN {VALID} THEN left(account, 1) END AS cls FROM {source})"""


ISSUE_KINDS = ("uncategorized", "unearned", "refund", "gift")
ISSUE_FIELDS = (
    "line",
    "date",
    "service_date",
    "amount",
    "account",
    "category",
    "counterparty",
    "memo",
)


def ledger_counts(
    ledger: Any, as_of: date, cap: int = 10
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[tuple]]]]:
    """One pass over the ledger: per entity and `consolidated`, the figures that are not
    expense flags (uncategorized rows, unearned revenue, refunds, gift cards, the
    deferred-revenue roll-forward); and {kind: {entity: rows}}, the rows behind the
    uncategorized, unearned, refund and gift card figures, the first `cap` by line per
    kind and entity, each (entity, line, date, service_date, amount, account, category,
    counterparty, memo)."""
    from execreport import audit_window

    start, _ = audit_window(as_of)
    unearned = "rev AND date <= $a AND service_date > $a"
    conditions = {
        "uncategorized": "win AND uncategorized",
        "unearned": unearned,
        "refund": "win AND rev AND amount < 0",
        "gift": "win AND gift",
    }
    row = "{" + ", ".join(f"'{f}': {f}" for f in ISSUE_FIELDS) + "}"
    firsts = ",\n".join(
        f"arg_min({row}, line, {int(cap)}) FILTER ({conditions[k]})" for k in ISSUE_KINDS
    )
    rows = ledger.sql(
        f"""SELECT entity,
              count(*) FILTER (win AND uncategorized),
              coalesce(sum(amount) FILTER ({unearned}), 0),
              count(*) FILTER ({unearned}),
              count(*) FILTER (win AND rev AND amount < 0),
              coalesce(sum(amount) FILTER (win AND rev AND amount < 0), 0),
              count(*) FILTER (win AND gift),
              coalesce(sum(amount) FILTER (win AND rev AND gift), 0),
              coalesce(sum(amount) FILTER (rev AND date < $q AND service_date >= $q), 0),
              coalesce(sum(amount) FILTER (rev AND date BETWEEN $q AND $a
                                           AND service_date > date), 0),
              coalesce(sum(amount) FILTER (rev AND service_date BETWEEN $q AND $a
                                           AND date < service_date), 0),
              {firsts}
            FROM ({classified("ledger_lines", uncategorized_values(ledger))})
            GROUP BY entity ORDER BY entity""",
        {"a": as_of, "q": quarter_start(as_of), "start": start},
    )
    keys = (
        "uncategorized_rows",
        "unearned_revenue",
        "unearned_revenue_rows",
        "refund_rows",
        "refund_total",
        "gift_card_rows",
        "gift_card_revenue",
        "deferred_revenue_opening",
        "deferred_revenue_booked",
        "deferred_revenue_recognised",
    )
    counts: dict[str, dict[str, Any]] = {}
    issues: dict[str, dict[str, list[tuple]]] = {k: {} for k in ISSUE_KINDS}
    total = dict.fromkeys(keys, 0)
    for entity, *values in rows:
        figures = dict(zip(keys, values[: len(keys)], strict=True))
        counts[entity] = figures
        # every figure here is a count or a sum: the consolidated one adds the entities'
        total = {k: total[k] + figures[k] for k in keys}
        for kind, found in zip(ISSUE_KINDS, values[len(keys) :], strict=True):
            if found:
                issues[kind][entity] = [(entity, *(r[f] for f in ISSUE_FIELDS)) for r in found]
    counts["consolidated"] = total
    return counts, issues


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


COUNT_KEYS = (
    "duplicate_rows",
    "near_duplicate_pairs",
    "uncategorized_rows",
    "outlier_rows",
    "missing_receipt_rows",
    "unearned_revenue_rows",
    "personal_rows",
    "refund_rows",
    "gift_card_rows",
    "accounts_used",
    "expense_rows",
)
MONEY_KEYS = (
    "unearned_revenue",
    "personal_total",
    "refund_total",
    "gift_card_revenue",
    "deferred_revenue_opening",
    "deferred_revenue_booked",
    "deferred_revenue_recognised",
    "deferred_revenue_closing",
    "expense_total",
    "unearned_booked_before_cfo_window",
    "unearned_booked_in_cfo_window",
    "unearned_booked_after_cfo_window",
)
# unearned_revenue split by where the row is booked against the CFO's trailing 3 months:
# the middle part is the CFO's revenue_deferred_unearned, to the cent
UNEARNED_SPLIT = MONEY_KEYS[-3:]


def unearned_split(ledger: Any, as_of: date) -> dict[str, dict[str, Decimal]]:
    """Per entity and `consolidated`: the unearned revenue (4xxx, date <= A < service_date)
    booked before, in and after the CFO's trailing 3 months. One DuckDB query."""
    from execreport import trailing_months

    start, end = trailing_months(as_of)
    cls = "CASE WHEN regexp_full_match(account, '[0-9]{4}') THEN left(account, 1) END"
    rows = ledger.sql(
        f"""
        SELECT coalesce(entity, 'consolidated'),
               coalesce(sum(amount) FILTER (WHERE date < $s), 0),
               coalesce(sum(amount) FILTER (WHERE date BETWEEN $s AND $e), 0),
               coalesce(sum(amount) FILTER (WHERE date > $e), 0)
        FROM ledger
        WHERE {cls} = '4' AND date <= $a AND service_date > $a
        GROUP BY GROUPING SETS ((entity), ())
        """,
        {"s": start, "e": end, "a": as_of},
    )
    return {r[0]: dict(zip(UNEARNED_SPLIT, r[1:], strict=True)) for r in rows}


@dataclass
class Audit:
    """Everything the accounting report is built from."""

    metrics: dict[str, dict[str, Any]]  # per entity key and `consolidated`
    issues: dict[str, dict[str, list[tuple]]]  # see ledger_counts
    chart: list[tuple]  # see chart_of_accounts


def audit(ctx: Any, flags: ExpenseFlags, cap: int = 10) -> Audit:
    """The accounting figures (METRICS.md keys first) and the rows behind them."""
    from execreport import to_money

    counts, issues = ledger_counts(ctx.ledger, ctx.as_of, cap)
    split = unearned_split(ctx.ledger, ctx.as_of)
    chart = chart_of_accounts(ctx.ledger, ctx.as_of)
    accounts = {"consolidated": len(chart)}
    for _, _, _, _, used in chart:
        for entity, _, _ in used:
            accounts[entity] = accounts.get(entity, 0) + 1
    out: dict[str, dict[str, Any]] = {}
    for consolidated, scopes in ((True, ["consolidated"]), (False, [e.key for e in ctx.entities])):
        cats = flags.by_category(consolidated)
        for scope in scopes:
            c = cats.get(scope, [])
            n = counts.get(scope, {})
            m: dict[str, Any] = {
                "duplicate_rows": sum(x["duplicates"] for x in c),
                "near_duplicate_pairs": sum(x["near_duplicates"] for x in c),
                "uncategorized_rows": n.get("uncategorized_rows", 0),
                "outlier_rows": sum(x["outliers"] for x in c),
                "missing_receipt_rows": sum(x["missing_receipts"] for x in c),
                "unearned_revenue": n.get("unearned_revenue", 0),
                "unearned_revenue_rows": n.get("unearned_revenue_rows", 0),
                "personal_rows": sum(x["personal"] for x in c),
                "personal_total": sum((x["personal_total"] for x in c), Decimal(0)),
                **{k: n.get(k, 0) for k in ("refund_rows", "refund_total", "gift_card_rows")},
                "gift_card_revenue": n.get("gift_card_revenue", 0),
                "deferred_revenue_opening": n.get("deferred_revenue_opening", 0),
                "deferred_revenue_booked": n.get("deferred_revenue_booked", 0),
                "deferred_revenue_recognised": n.get("deferred_revenue_recognised", 0),
                "deferred_revenue_closing": n.get("unearned_revenue", 0),
                **{k: split.get(scope, {}).get(k, 0) for k in UNEARNED_SPLIT},
                "accounts_used": accounts.get(scope, 0),
                "expense_rows": sum(x["rows"] for x in c),
                "expense_total": sum((x["total"] for x in c), Decimal(0)),
                "expense_categories": [
                    {
                        **{k: v for k, v in x.items() if k != "personal_total"},
                        "total": to_money(x["total"]),
                    }
                    for x in c
                ],
            }
            for k in COUNT_KEYS:
                m[k] = int(m[k])
            for k in MONEY_KEYS:
                m[k] = to_money(m[k])
            out[scope] = m
    return Audit(metrics=out, issues=issues, chart=chart)


def compute(ctx: Any, keywords: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every accounting figure per entity key and `consolidated` (METRICS.md keys first)."""
    with ExpenseFlags(ctx.ledger, ctx.as_of, keywords or DEFAULTS["personal_keywords"]) as f:
        return audit(ctx, f).metrics


# -- rows behind the findings ----------------------------------------------------------------
def chart_of_accounts(ledger: Any, as_of: date) -> list[tuple]:
    """(account, name, rows, total, [(entity, rows, name)]) for every account used on or
    before as_of. A name is the most common non-empty category of the account's rows (ties:
    alphabetical), over all entities and per entity."""
    return ledger.sql(
        f"""WITH r AS (SELECT entity, account, category, amount FROM ledger WHERE date <= ?),
           c AS (SELECT account, entity, category, count(*) AS n FROM r
                 WHERE {strip("category")} <> '' GROUP BY account, entity, category),
           nm AS (SELECT account, list(category ORDER BY n DESC, category)[1] AS name
                  FROM (SELECT account, category, sum(n) AS n FROM c GROUP BY account, category)
                  GROUP BY account),
           en AS (SELECT account, entity, list(category ORDER BY n DESC, category)[1] AS name
                  FROM c GROUP BY account, entity),
           e AS (SELECT account, entity, count(*) AS n, sum(amount) AS total FROM r
                 GROUP BY account, entity)
           SELECT e.account, coalesce(nm.name, ''), sum(e.n), sum(e.total),
                  list((e.entity, e.n, coalesce(en.name, '')) ORDER BY e.entity)
           FROM e LEFT JOIN nm USING (account) LEFT JOIN en USING (account, entity)
           GROUP BY e.account, nm.name ORDER BY e.account""",
        [as_of],
    )


def account_class(account: str) -> str | None:
    """The account's class: its first digit (the template names it), None for an account
    that is not four digits."""
    if len(account) == 4 and account.isdigit():
        return account[0]
    return None


# -- settings ------------------------------------------------------------------------------
def keyword_settings(settings: dict[str, Any]) -> list[str]:
    from .cfo import setting_error

    raw = settings.get("personal_keywords", DEFAULTS["personal_keywords"])
    if not isinstance(raw, list) or not all(isinstance(k, str) and k.strip() for k in raw):
        raise setting_error(
            "accounting",
            "personal_keywords",
            'must be a list of non-empty strings, e.g. ["netflix", "golf"]',
        )
    return list(dict.fromkeys(k.strip().lower() for k in raw))


# -- what the template receives -----------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """A column of figures: one entity, or all of them (`consolidated`)."""

    key: str  # the entity's key, or `consolidated`
    name: str | None  # the entity's name; None for all entities


@dataclass(frozen=True)
class AccountUse:
    """One entity's rows on an account."""

    entity: str  # the entity's name
    rows: int
    name: str  # the entity's own name for the account: its most common category, or ''
    differs: bool  # whether that is not the account's name over all entities


@dataclass(frozen=True)
class AccountRow:
    """An account used on or before as_of."""

    account: str  # as written in ledger.csv
    account_class: str | None  # the first digit; None when the account is not four digits
    name: str  # the most common non-empty category of its rows, or ''
    rows: int
    total: Decimal
    by_entity: list[AccountUse]


@dataclass(frozen=True)
class ExpenseRow:
    """Expense rows of the audit window and their flags: one category or all of them."""

    scope: Scope
    category: str | None  # as written; None for all categories
    rows: int
    total: Decimal
    duplicates: int
    near_duplicates: int
    outliers: int
    missing_receipts: int
    personal: int


@dataclass(frozen=True)
class RevenueIssue:
    """A ledger row behind the revenue recognition figures."""

    scope: Scope
    kind: str  # `unearned`, `refund`, `gift_revenue` (a 4xxx gift card row) or `gift`
    line: int
    day: date  # the row's date
    service_date: date | None
    account: str
    counterparty: str
    category: str
    amount: Decimal


@dataclass(frozen=True)
class Milestones:
    """Where one scope's revenue target path reaches half the gap, break-even and the
    target (months as first days; None where the path does not reach it)."""

    scope: Scope
    status: str  # `above`, `on_path` or `no_break_even` (see cfo.RevenuePlan)
    reachable: bool  # False: no revenue level breaks even
    cm_ratio: Decimal | None  # the contribution margin ratio; None without revenue
    revenue_now: Decimal
    break_even: Decimal | None
    halfway: date | None
    crosses: date | None
    target: date | None
    at_target: bool  # the revenue now is at or above the target already


@dataclass(frozen=True)
class FigureChange:
    """One key figure that differs from the last report."""

    key: str  # the metrics key, as in KEY_FIGURES
    kind: str  # `count` or `money`
    before: Decimal | None  # None: not a number in the last report
    after: Decimal | None
    direction: str | None  # `up` or `down` for money with both figures; else None
    difference: Decimal | None  # the size of that change


@dataclass(frozen=True)
class ScopeChange:
    """A scope with changed key figures, or new in this report."""

    scope: Scope
    new: bool  # the last report had no figures for it
    figures: list[FigureChange]


def account_rows(chart: Sequence[tuple[Any, ...]], names: dict[str, str]) -> list[AccountRow]:
    """The chart of accounts (see chart_of_accounts) with entity names."""
    return [
        AccountRow(
            account=acct,
            account_class=account_class(acct),
            name=name,
            rows=int(rows),
            total=total,
            by_entity=[
                AccountUse(names.get(ent, ent), int(cnt), own, own != name)
                for ent, cnt, own in used
            ],
        )
        for acct, name, rows, total, used in chart
    ]


def expense_rows(m: dict[str, dict[str, Any]], scopes: Sequence[Scope]) -> dict[str, Any]:
    """The expense audit's tables: `expense_by_entity` (each entity, then all entities),
    `expense_flagged` (each entity's categories with a flag) and `expense_by_category`
    (every category over all entities, largest spend first)."""

    def row(scope: Scope, category: str | None, c: dict[str, Any]) -> ExpenseRow:
        return ExpenseRow(scope, category, c["rows"], c["total"], *(c[k] for k in FLAG_KEYS))

    by_entity: list[ExpenseRow] = []
    flagged: list[ExpenseRow] = []
    for scope in [*scopes[1:], scopes[0]]:
        f = m[scope.key]
        totals = {
            "rows": f["expense_rows"],
            "total": f["expense_total"],
            "duplicates": f["duplicate_rows"],
            "near_duplicates": f["near_duplicate_pairs"],
            "outliers": f["outlier_rows"],
            "missing_receipts": f["missing_receipt_rows"],
            "personal": f["personal_rows"],
        }
        by_entity.append(row(scope, None, totals))
        if scope.key != "consolidated":
            flagged += [
                row(scope, c["category"], c)
                for c in f["expense_categories"]
                if any(c[k] for k in FLAG_KEYS)
            ]
    return {
        "expense_by_entity": by_entity,
        "expense_flagged": flagged,
        "expense_by_category": [
            row(scopes[0], c["category"], c) for c in m["consolidated"]["expense_categories"]
        ],
    }


def revenue_issues(
    issues: dict[str, dict[str, list[tuple]]], scopes: Sequence[Scope]
) -> list[RevenueIssue]:
    """The rows behind the revenue recognition figures (see ledger_counts), per entity:
    unearned revenue, refunds, then gift cards."""
    out: list[RevenueIssue] = []
    for scope in scopes[1:]:
        for kind in ("unearned", "refund", "gift"):
            for _, line, day, service, amount, acct, cat, cp, _memo in issues[kind].get(
                scope.key, []
            ):
                out.append(
                    RevenueIssue(
                        scope=scope,
                        kind="gift_revenue" if kind == "gift" and acct[:1] == "4" else kind,
                        line=int(line),
                        day=day,
                        service_date=service if kind == "unearned" else None,
                        account=acct,
                        counterparty=cp,
                        category=cat,
                        amount=amount,
                    )
                )
    return out


def milestones(
    ctx: Any, plan: PlanSettings, scopes: Sequence[Scope], m: dict[str, dict[str, Any]]
) -> list[Milestones]:
    """The roadmap: the months in which the CFO revenue target path (with `plan`'s
    parameters) first reaches half the gap, break-even and the target. Adds
    break_even_status and break_even_month to the metrics `m`."""
    from . import cfo

    exact = cfo.compute(ctx)
    plans = cfo.revenue_plans(exact, ctx.as_of, plan)
    out: list[Milestones] = []
    for scope in scopes:
        p = plans[scope.key]
        be_month = p.break_even_month
        m[scope.key]["break_even_status"] = p.status
        m[scope.key]["break_even_month"] = cfo.month_label(be_month) if be_month else None
        reachable = False
        half: date | None = None
        target_at: date | None = None
        if p.status != "no_break_even" and p.break_even is not None and p.target is not None:
            reachable = True
            half = p.first_month_at(p.current + (p.break_even - p.current) / 2)
            target_at = p.first_month_at(p.target)
        out.append(
            Milestones(
                scope=scope,
                status=p.status,
                reachable=reachable,
                cm_ratio=exact[scope.key]["cm_ratio"],
                revenue_now=p.current,
                break_even=p.break_even,
                halfway=half,
                crosses=be_month,
                target=target_at,
                at_target=p.target is not None and p.current >= p.target,
            )
        )
    return out


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _comparable(m: dict[str, Any]) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(m)


def changes(
    previous: Any, metrics_now: dict[str, dict[str, Any]], scopes: Sequence[Scope]
) -> list[ScopeChange] | None:
    """The KEY_FIGURES that changed since the `previous` report, per scope (only scopes
    with a change, or new in this report); None without a previous report or when no
    figure at all changed (no section then)."""
    if previous is None:
        return None
    old = previous.metrics or {}
    if _comparable(old) == _comparable(metrics_now):
        return None
    out: list[ScopeChange] = []
    for scope in scopes:
        before, after = old.get(scope.key), metrics_now.get(scope.key, {})
        if before is None:
            out.append(ScopeChange(scope, True, []))
            continue
        figures: list[FigureChange] = []
        for key, kind in KEY_FIGURES:
            if key not in after or key not in before:
                continue
            a, b = _number(before[key]), _number(after[key])
            if a == b:
                continue
            direction: str | None = None
            difference: Decimal | None = None
            if a is not None and b is not None and kind != "count":
                direction, difference = ("up" if b > a else "down"), abs(b - a)
            figures.append(FigureChange(key, kind, a, b, direction, difference))
        if figures:
            out.append(ScopeChange(scope, False, figures))
    return out


def pct(value: Any) -> str:
    """A ratio as a whole percent: `42%`."""
    return f"{value * 100:.0f}%"


# -- the report ----------------------------------------------------------------------------
def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _lines(lines: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(x) for x in lines[:limit])
    more = f" and {len(lines) - limit} more" if len(lines) > limit else ""
    word = "line" if len(lines) == 1 else "lines"
    return f"ledger.csv {word} {shown}{more}"


class Accounting:
    name = "accounting"
    title = "Accounting Review"
    priority = 50
    settings_defaults = DEFAULTS  # every key of [roles.accounting], checked at load
    template_folder = Path(__file__).parent / "templates"
    template_variables = {
        "scopes": "the columns of figures, all entities first: Scope(key, name), name None "
        "for all entities (key `consolidated`)",
        "metrics": "the report's metrics: {scope key: {figure: value}} (METRICS.md keys)",
        "accounts": "the chart of accounts in use: AccountRow(account, account_class (the "
        "first digit, None if not four digits), name, rows, total, by_entity: "
        "[AccountUse(entity, rows, name, differs)])",
        "expense_by_entity": "ExpenseRow(scope, category (None: all categories), rows, total, "
        "duplicates, near_duplicates, outliers, missing_receipts, personal) per entity, then "
        "all entities",
        "expense_flagged": "ExpenseRow per entity and category with at least one flag",
        "expense_by_category": "ExpenseRow per category over all entities, largest spend first",
        "keywords": "the personal_keywords in force (lower case)",
        "receipt_threshold": "the amount from which a receipt is required (a Decimal)",
        "window_start": "the audit window's start (exclusive, a date)",
        "window_end": "the audit window's end (a date, as_of)",
        "revenue_issues": "RevenueIssue(scope, kind (unearned, refund, gift_revenue, gift), "
        "line, day, service_date, account, counterparty, category, amount), per entity",
        "max_listed": "the rows listed per kind of finding and entity (an int)",
        "quarter_start": "the first day of as_of's quarter (a date)",
        "cfo_start": "the first day of the CFO's trailing 3 months (a date)",
        "cfo_end": "the last day of the CFO's trailing 3 months (a date)",
        "roadmap": "Milestones(scope, status, reachable, cm_ratio, revenue_now, break_even, "
        "halfway, crosses, target (months as dates or None), at_target) per scope",
        "plan": "the target path's parameters: target_month (a date), target_monthly_profit",
        "plan_source": "`cfo` (the CFO report of this run) or `settings` ([roles.accounting])",
        "changes": "None (no section) or [ScopeChange(scope, new, figures: [FigureChange(key, "
        "kind (count or money), before, after, direction (up, down or None), difference)])]",
        "key_figures": "the metrics keys the changes compare, in order",
        "month": "`month(day)`: a month as `2025-06`",
        "pct": "`pct(ratio)`: a ratio as a whole percent, `42%`",
    }

    def build(self, ctx: Any) -> Any:
        settings = read_settings(self.name, ctx.settings, DEFAULTS)
        keywords = keyword_settings(settings)
        with ExpenseFlags(ctx.ledger, ctx.as_of, keywords) as flags:
            return self.report(ctx, settings, flags)

    def report(self, ctx: Any, settings: dict[str, Any], flags: ExpenseFlags) -> Any:
        from execreport import (
            Action,
            Finding,
            Report,
            Severity,
            audit_window,
            money,
            render_template,
            trailing_months,
        )

        from . import cfo

        keywords = flags.keywords
        cap = int(cfo.to_decimal(settings["max_listed"], "accounting", "max_listed"))
        if cap < 0:
            raise cfo.setting_error("accounting", "max_listed", f"{cap} is negative; use 0 or more")
        due_days = {**DEFAULTS["due_days"], **settings.get("due_days", {})}
        found = audit(ctx, flags, cap)
        m = found.metrics
        names = {e.key: e.name for e in ctx.entities}
        findings: list[Any] = []
        actions: list[Any] = []

        def due(severity: str) -> date:
            return ctx.as_of + timedelta(days=int(due_days[severity]))

        def act(key: str, severity: Any, priority: int, title: str) -> None:
            actions.append(
                Action(
                    title=title,
                    owner="accounting",
                    due=due(severity.value),
                    priority=priority,
                    entity=key,
                    severity=severity,
                )
            )

        def more(key: str, kind: str, total: int, listed: int) -> None:
            if total > listed:
                findings.append(
                    Finding(
                        severity=Severity.info,
                        entity=key,
                        message=f"{names.get(key, key)}: {total - listed} more {kind} not "
                        f"listed here (max_listed = {cap}); the counts in the sections below "
                        "include them",
                    )
                )

        # -- expense audit findings, row by row (at most `cap` per kind and entity)
        dups: dict[str, list[int]] = {}
        for ent, day, amount, cp, n, lines, _ in flags.duplicate_groups(cap):
            dups.setdefault(ent, []).extend(lines[1:])
            findings.append(
                Finding(
                    severity=Severity.warning,
                    entity=ent,
                    message=f"{names.get(ent, ent)}: exact duplicate charge: {day.isoformat()} {cp} "
                    f"{money(amount)} appears {n} times ({_lines(lines)})",
                )
            )
        near: dict[str, list[int]] = {}
        near_pairs: dict[str, int] = {}
        for ent, line, day, amount, cp, earlier in flags.near_duplicates(cap):
            near.setdefault(ent, []).append(line)
            near_pairs[ent] = near_pairs.get(ent, 0) + len(earlier)
            findings.append(
                Finding(
                    severity=Severity.info,
                    entity=ent,
                    message=f"{names.get(ent, ent)}: possible double charge: {cp} "
                    f"{money(amount)} on {day.isoformat()} (ledger.csv line {line}) repeats "
                    f"{_lines(earlier)} from 1 to 3 days earlier",
                )
            )
        outliers: dict[str, list[int]] = {}
        for ent, line, day, amount, cat, cp, score, _ in flags.rows(
            "outlier_e", cap, "score_e DESC, line"
        ):
            outliers.setdefault(ent, []).append(line)
            findings.append(
                Finding(
                    severity=Severity.info,
                    entity=ent,
                    message=f"{names.get(ent, ent)}: unusual {cat} charge {cp} {money(amount)} "
                    f"on {day.isoformat()} (ledger.csv line {line}, modified z-score "
                    f"{score:.1f} > 3.5)",
                )
            )
        receipts: dict[str, list[int]] = {}
        gaps = flags.rows("missing_receipt", cap)
        for ent, line, day, amount, cat, cp, _, _ in gaps:
            receipts.setdefault(ent, []).append(line)
            findings.append(
                Finding(
                    severity=Severity.info,
                    entity=ent,
                    message=f"{names.get(ent, ent)}: no receipt for {cat} {cp} {money(amount)} "
                    f"on {day.isoformat()} (ledger.csv line {line})",
                )
            )
        personal: dict[str, list[int]] = {}
        for ent, line, day, amount, cat, cp, _, keyword in flags.rows("personal IS NOT NULL", cap):
            personal.setdefault(ent, []).append(line)
            findings.append(
                Finding(
                    severity=Severity.warning,
                    entity=ent,
                    message=f"{names.get(ent, ent)}: personal-looking expense {cp} "
                    f"{money(amount)} on {day.isoformat()} in {cat or '(no category)'} "
                    f"(ledger.csv line {line}, keyword {keyword!r})",
                )
            )
        issues = found.issues
        unearned, gifts = issues["unearned"], issues["gift"]
        uncats: dict[str, list[int]] = {}
        for ent, line, _day, _svc, amount, acct, cat, cp, _memo in (
            row for rows in issues["uncategorized"].values() for row in rows
        ):
            uncats.setdefault(ent, []).append(line)
            valid = len(acct) == 4 and acct.isdigit()
            why = (
                f"account {acct!r} is not four digits"
                if not valid
                else ("empty category" if not cat.strip() else f"catch-all category {cat!r}")
            )
            findings.append(
                Finding(
                    severity=Severity.info,
                    entity=ent,
                    message=f"{names.get(ent, ent)}: uncategorized row: {why} on {cp} "
                    f"{money(amount)} (ledger.csv line {line})",
                )
            )

        for e in ctx.entities:
            f, k, n = m[e.key], e.key, e.name
            more(k, "duplicate charges", f["duplicate_rows"], len(dups.get(k, [])))
            more(k, "near-duplicate pairs", f["near_duplicate_pairs"], near_pairs.get(k, 0))
            more(k, "outliers", f["outlier_rows"], len(outliers.get(k, [])))
            more(k, "missing receipts", f["missing_receipt_rows"], len(receipts.get(k, [])))
            more(k, "personal-looking expenses", f["personal_rows"], len(personal.get(k, [])))
            more(k, "uncategorized rows", f["uncategorized_rows"], len(uncats.get(k, [])))
            if f["duplicate_rows"]:
                act(
                    k,
                    Severity.warning,
                    2,
                    f"Get {n}'s {_count(f['duplicate_rows'], 'duplicate charge')} refunded by the "
                    f"vendor and reverse the extra rows ({_lines(dups.get(k, []))})",
                )
            for _, line, day, service, amount, _acct, _cat, cp, _memo in unearned.get(k, []):
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=k,
                        message=f"{n}: revenue of {money(amount)} from {cp} booked on "
                        f"{day.isoformat()} for service on {service.isoformat()} (ledger.csv "
                        f"line {line}) belongs in 2300 deferred revenue",
                    )
                )
            more(k, "unearned revenue rows", f["unearned_revenue_rows"], len(unearned.get(k, [])))
            if f["unearned_revenue_rows"]:
                act(
                    k,
                    Severity.warning,
                    2,
                    f"Move {money(f['unearned_revenue'])} of {n}'s revenue booked before its "
                    f"service date to 2300 deferred revenue "
                    f"({_lines([r[1] for r in unearned.get(k, [])])})",
                )
            if f["personal_rows"]:
                act(
                    k,
                    Severity.warning,
                    2,
                    f"Reclassify {n}'s {_count(f['personal_rows'], 'personal-looking expense')} of "
                    f"{money(f['personal_total'])} as owner draws or get them reimbursed "
                    f"({_lines(personal.get(k, []))})",
                )
            gift_revenue = [r for r in gifts.get(k, []) if r[5][:1] == "4"]
            for _, line, day, _svc, amount, acct, _cat, _cp, _memo in gift_revenue:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=k,
                        message=f"{n}: gift card sale of {money(amount)} on {day.isoformat()} "
                        f"booked to revenue account {acct} (ledger.csv line {line}); it is a "
                        "liability until the card is redeemed",
                    )
                )
            if f["gift_card_revenue"]:
                act(
                    k,
                    Severity.warning,
                    2,
                    f"Move {money(f['gift_card_revenue'])} of {n}'s gift card sales from "
                    f"revenue to a gift card liability "
                    f"({_lines([r[1] for r in gift_revenue])})",
                )
            if f["uncategorized_rows"]:
                act(
                    k,
                    Severity.info,
                    3,
                    f"Categorize {n}'s {_count(f['uncategorized_rows'], 'uncategorized row')} "
                    f"({_lines(uncats.get(k, []))})",
                )
            if f["missing_receipt_rows"]:
                act(
                    k,
                    Severity.info,
                    3,
                    f"Collect {n}'s {_count(f['missing_receipt_rows'], 'missing receipt')} "
                    f"({_lines(receipts.get(k, []))})",
                )
            if f["near_duplicate_pairs"]:
                act(
                    k,
                    Severity.info,
                    3,
                    f"Check {n}'s {_count(f['near_duplicate_pairs'], 'possible double charge')} with "
                    f"the vendor ({_lines(near.get(k, []))})",
                )
            if f["outlier_rows"]:
                act(
                    k,
                    Severity.info,
                    3,
                    f"Verify {n}'s {_count(f['outlier_rows'], 'unusually large charge')} against "
                    f"their invoices ({_lines(outliers.get(k, []))})",
                )

        # -- what the sections show (the words are in templates/accounting.md.j2)
        scopes = [Scope("consolidated", None)] + [Scope(e.key, e.name) for e in ctx.entities]
        a_start, a_end = audit_window(ctx.as_of)
        plan, plan_source = self.plan(ctx, settings)
        # the roadmap adds break_even_status and break_even_month to the metrics, which the
        # changes since the last report then compare too
        roadmap = milestones(ctx, plan, scopes, m)
        variables: dict[str, Any] = {
            "scopes": scopes,
            "metrics": m,
            "accounts": account_rows(found.chart, names),
            **expense_rows(m, scopes),
            "keywords": keywords,
            "receipt_threshold": RECEIPT_THRESHOLD,
            "window_start": a_start,
            "window_end": a_end,
            "revenue_issues": revenue_issues(issues, scopes),
            "max_listed": cap,
            "quarter_start": quarter_start(ctx.as_of),
            "cfo_start": trailing_months(ctx.as_of)[0],
            "cfo_end": trailing_months(ctx.as_of)[1],
            "roadmap": roadmap,
            "plan": plan,
            "plan_source": plan_source,
            "changes": changes(ctx.previous, m, scopes),
            "key_figures": [key for key, _ in KEY_FIGURES],
            "month": cfo.month_label,
            "pct": pct,
        }
        out = render_template(ctx, self, variables)
        return Report(
            role=self.name,
            title=self.title,
            subject=out.subject,
            sections=out.sections,
            findings=findings,
            actions=actions,
            metrics=m,
        )

    def plan(self, ctx: Any, settings: dict[str, Any]) -> tuple[PlanSettings, str]:
        """The roadmap's target path parameters and where they come from: `cfo`, the CFO's
        when its report was built in this run, else `settings`, [roles.accounting]
        target_month and target_monthly_profit."""
        from . import cfo

        cfo_report = next((r for r in ctx.reports if r.role == "cfo"), None)
        if cfo_report is not None and "target_month" in cfo_report.metrics.get("consolidated", {}):
            given = cfo_report.metrics["consolidated"]
            plan = cfo.plan_settings(
                {
                    "target_month": given["target_month"],
                    "target_monthly_profit": given["target_monthly_profit"],
                },
                ctx.as_of,
            )
            return plan, "cfo"
        return cfo.plan_settings(settings, ctx.as_of, table="accounting"), "settings"


@hookimpl
def register_roles(register: Any) -> None:
    register(Accounting())
