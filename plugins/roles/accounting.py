"""Accounting: chart of accounts, expense audit by category, revenue recognition, the
deferred-revenue roll-forward and the milestone roadmap to profitability."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl, read_settings

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
GIFT_CARD = "gift[ -]?(card|certificate|cert)"
CLASS_NAMES = {
    "1": "assets",
    "2": "liabilities",
    "3": "equity",
    "4": "revenue",
    "5": "cost of goods sold",
    "6": "operating expenses",
    "7": "operating expenses",
}

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

# the figures the "Changes since the last report" section compares: (key, words, kind)
KEY_FIGURES = (
    ("duplicate_rows", "duplicates", "count"),
    ("near_duplicate_pairs", "near duplicates", "count"),
    ("uncategorized_rows", "uncategorized rows", "count"),
    ("outlier_rows", "outliers", "count"),
    ("missing_receipt_rows", "missing receipts", "count"),
    ("personal_rows", "personal-looking expenses", "count"),
    ("unearned_revenue", "unearned revenue", "money"),
    ("gift_card_rows", "gift card rows", "count"),
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
)


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


def account_class(account: str) -> str:
    if len(account) == 4 and account.isdigit():
        return CLASS_NAMES.get(account[0], "other")
    return "not a valid account"


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


# -- the report ----------------------------------------------------------------------------
def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _lines(lines: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(x) for x in lines[:limit])
    more = f" and {len(lines) - limit} more" if len(lines) > limit else ""
    word = "line" if len(lines) == 1 else "lines"
    return f"ledger.csv {word} {shown}{more}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


class Accounting:
    name = "accounting"
    title = "Accounting Review"
    priority = 50
    settings_defaults = DEFAULTS  # every key of [roles.accounting], checked at load

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
            Section,
            Severity,
            audit_window,
            md_escape,
            money,
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
        scopes = [("consolidated", "**All entities**")] + [
            (e.key, md_escape(e.name)) for e in ctx.entities
        ]
        a_start, a_end = audit_window(ctx.as_of)
        window = f"the audit window {a_start.isoformat()} (exclusive) to {a_end.isoformat()}"
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
        unearned, refunds, gifts = issues["unearned"], issues["refund"], issues["gift"]
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

        # -- sections
        coa_rows = []
        for acct, name, rows, total, used in found.chart:
            by = ", ".join(
                f"{md_escape(names.get(ent, ent))} {cnt}"
                + (f" ({md_escape(own) or 'no category'})" if own != name else "")
                for ent, cnt, own in used
            )
            coa_rows.append(
                [
                    md_escape(acct) or "(empty)",
                    account_class(acct),
                    md_escape(name) or "(no category)",
                    str(rows),
                    money(total),
                    by,
                ]
            )
        coa = _table(
            ["Account", "Class", "Name", "Rows", "Total", "Rows by entity (its own name)"],
            coa_rows,
        )
        coa_how = (
            "_How this was computed: every ledger.csv row dated on or before "
            f"{ctx.as_of.isoformat()}, grouped by account; the class is the account's first "
            "digit (1 assets, 2 liabilities, 3 equity, 4 revenue, 5 cost of goods sold, 6-7 "
            "operating expenses; anything but four digits is not a valid account); the name is "
            "the account's most common non-empty category, in brackets an entity's own when it "
            "differs._"
        )

        flag_keys = ("duplicates", "near_duplicates", "outliers", "missing_receipts", "personal")

        def audit_row(label: str, what: str, c: dict[str, Any]) -> list[str]:
            return [label, what, str(c["rows"]), money(c["total"])] + [str(c[k]) for k in flag_keys]

        audit_header = [
            "Entity",
            "Category",
            "Rows",
            "Total",
            "Duplicates",
            "Near duplicates",
            "Outliers",
            "Missing receipts",
            "Personal-looking",
        ]
        by_entity = []
        flagged = []
        for key, label in [*scopes[1:], scopes[0]]:
            f = m[key]
            totals = {
                "rows": f["expense_rows"],
                "total": f["expense_total"],
                "duplicates": f["duplicate_rows"],
                "near_duplicates": f["near_duplicate_pairs"],
                "outliers": f["outlier_rows"],
                "missing_receipts": f["missing_receipt_rows"],
                "personal": f["personal_rows"],
            }
            by_entity.append(audit_row(label, "all categories", totals))
            if key != "consolidated":
                flagged += [
                    audit_row(label, md_escape(c["category"]) or "(empty)", c)
                    for c in f["expense_categories"]
                    if any(c[k] for k in flag_keys)
                ]
        by_category = [
            audit_row("", md_escape(c["category"]) or "(empty)", c)[1:]
            for c in m["consolidated"]["expense_categories"]
        ]
        expense = "\n\n".join(
            [
                "By entity:",
                _table(audit_header, by_entity),
                "Categories with findings, by entity:",
                _table(audit_header, flagged) if flagged else "None.",
                "By category, all entities (largest spend first; per-entity categories are "
                "in the metrics, expense_categories):",
                _table(audit_header[1:], by_category),
            ]
        )
        uncat_line = (
            "Uncategorized rows (any account, "
            + window
            + "): "
            + ", ".join(f"{label} {m[key]['uncategorized_rows']}" for key, label in scopes)
        )
        expense_how = (
            f"_How this was computed: expense rows (amount < 0, accounts 5xxx-7xxx) in {window}, "
            "by category as written (METRICS.md, accounting): duplicates are rows repeating an "
            "earlier row's date, amount and counterparty; near duplicates are pairs with the "
            "same counterparty and amount 1 to 3 days apart, counted on the later row; "
            "outliers have a modified z-score over 3.5 within a category of at least 5 rows; "
            f"missing receipts are travel, meals, entertainment, gifts or vehicle rows of "
            f"{money(RECEIPT_THRESHOLD)} or more without a receipt; personal-looking rows "
            "contain one of personal_keywords ("
            + (", ".join(md_escape(k) for k in keywords) or "none")
            + ") in the counterparty or memo, any case._"
        )

        rec_lines = []
        for e in ctx.entities:
            f, label = m[e.key], md_escape(e.name)
            for _, line, day, service, amount, acct, _cat, cp, _memo in unearned.get(e.key, []):
                rec_lines.append(
                    [
                        label,
                        str(line),
                        "booked before service",
                        day.isoformat(),
                        f"service {service.isoformat()}",
                        md_escape(acct),
                        md_escape(cp),
                        money(amount),
                    ]
                )
            for _, line, day, _svc, amount, acct, _cat, cp, _memo in refunds.get(e.key, []):
                rec_lines.append(
                    [
                        label,
                        str(line),
                        "refund",
                        day.isoformat(),
                        "",
                        md_escape(acct),
                        md_escape(cp),
                        money(amount),
                    ]
                )
            for _, line, day, _svc, amount, acct, cat, _cp, _memo in gifts.get(e.key, []):
                kind = "gift card sold as revenue" if acct[:1] == "4" else "gift card"
                rec_lines.append(
                    [
                        label,
                        str(line),
                        kind,
                        day.isoformat(),
                        "",
                        md_escape(acct),
                        md_escape(cat),
                        money(amount),
                    ]
                )
        summary = _table(
            [
                "Entity",
                "Unearned (belongs in 2300)",
                "Unearned rows",
                "Refunds",
                "Refund total",
                "Gift card rows",
                "Gift card revenue",
            ],
            (
                [
                    label,
                    money(m[key]["unearned_revenue"]),
                    str(m[key]["unearned_revenue_rows"]),
                    str(m[key]["refund_rows"]),
                    money(m[key]["refund_total"]),
                    str(m[key]["gift_card_rows"]),
                    money(m[key]["gift_card_revenue"]),
                ]
                for key, label in scopes
            ),
        )
        detail = (
            _table(
                [
                    "Entity",
                    "ledger.csv line",
                    "Issue",
                    "Date",
                    "Service date",
                    "Account",
                    "Counterparty / category",
                    "Amount",
                ],
                rec_lines,
            )
            if rec_lines
            else "No revenue booked before its service date, no refunds and no gift cards."
        )
        rec_how = (
            "_How this was computed: unearned revenue is 4xxx rows dated on or before "
            f"{ctx.as_of.isoformat()} whose service_date is later (METRICS.md, any date); "
            f"refunds are negative 4xxx rows and gift cards rows whose category or memo says "
            f"gift card or gift certificate, both in {window}; at most {cap} rows listed per "
            "kind and entity (max_listed)._"
        )

        q_start = quarter_start(ctx.as_of)
        roll = _table(
            [
                "Entity",
                f"Opening {q_start.isoformat()}",
                "+ Booked in advance",
                "- Recognised",
                f"= Closing {ctx.as_of.isoformat()}",
            ],
            (
                [
                    label,
                    money(m[key]["deferred_revenue_opening"]),
                    money(m[key]["deferred_revenue_booked"]),
                    money(m[key]["deferred_revenue_recognised"]),
                    money(m[key]["deferred_revenue_closing"]),
                ]
                for key, label in scopes
            ),
        )
        roll_how = (
            "_How this was computed: over 4xxx rows with a service_date: opening = rows dated "
            f"before {q_start.isoformat()} (the start of the quarter) for service on or after "
            f"it; booked in advance = rows dated {q_start.isoformat()} to "
            f"{ctx.as_of.isoformat()} whose service_date is later than their date; recognised "
            "= rows whose service_date falls in that range and is later than their date; "
            "closing = opening + booked - recognised = the unearned revenue at "
            f"{ctx.as_of.isoformat()}._"
        )

        # the roadmap: the CFO's target path, with the CFO's parameters when its report
        # was built in this run (else [roles.accounting] target_month/target_monthly_profit)
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
            source = "the CFO report of this run"
        else:
            plan = cfo.plan_settings(settings, ctx.as_of, table="accounting")
            source = "[roles.accounting] target_month and target_monthly_profit"
        exact = cfo.compute(ctx)
        plans = cfo.revenue_plans(exact, ctx.as_of, plan)
        road_rows = []
        for key, label in scopes:
            p = plans[key]
            be_month = p.break_even_month
            m[key]["break_even_status"] = p.status
            m[key]["break_even_month"] = cfo.month_label(be_month) if be_month else None
            if p.status == "no_break_even" or p.break_even is None or p.target is None:
                cm = exact[key]["cm_ratio"]
                why = "no revenue" if cm is None else f"contribution margin {cm * 100:.0f}%"
                road_rows.append(
                    [label, money(p.current), "n/a", "n/a", f"no break-even ({why})", "n/a"]
                )
                continue
            half = p.first_month_at(p.current + (p.break_even - p.current) / 2)
            target_at = p.first_month_at(p.target)
            road_rows.append(
                [
                    label,
                    money(p.current),
                    money(p.break_even),
                    "already above break-even"
                    if p.status == "above"
                    else (cfo.month_label(half) if half else "n/a"),
                    "already above break-even"
                    if p.status == "above"
                    else (cfo.month_label(be_month) if be_month else "n/a"),
                    "already at the target"
                    if p.target is not None and p.current >= p.target
                    else (cfo.month_label(target_at) if target_at else "n/a"),
                ]
            )
        road = _table(
            [
                "Entity",
                "Revenue now/mo",
                "Break-even/mo",
                "Halfway to break-even",
                "Crosses break-even",
                f"Reaches target ({money(plan.target_monthly_profit)} profit/mo)",
            ],
            road_rows,
        )
        road_how = (
            "_How this was computed: the months in which the CFO revenue target path (linear "
            "from the trailing-3-month monthly revenue to (fixed costs + target profit) / CM "
            f"ratio in {cfo.month_label(plan.target_month)}, target profit "
            f"{money(plan.target_monthly_profit)}, parameters from {source}) first reaches "
            "half the gap, break-even revenue and the target; METRICS.md cfo definitions._"
        )

        sections = [
            Section(heading="Chart of accounts in use", body=f"{coa}\n\n{coa_how}"),
            Section(
                heading="Expense audit by category",
                body=f"{expense}\n\n{uncat_line}.\n\n{expense_how}",
            ),
            Section(
                heading="Revenue recognition",
                body=f"{summary}\n\n{detail}\n\n{rec_how}",
            ),
            Section(heading="Deferred revenue roll-forward", body=f"{roll}\n\n{roll_how}"),
            Section(heading="Milestone roadmap to profitability", body=f"{road}\n\n{road_how}"),
        ]
        changes = cfo.changes_section(ctx.previous, m, KEY_FIGURES, scopes)
        if changes is not None:
            sections.append(changes)
        return Report(
            role=self.name,
            title=self.title,
            subject=f"Accounting Review: {ctx.period} expense audit and revenue recognition",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=m,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(Accounting())
