"""`execreport build --json` metrics equal an independent reference (METRICS.md).

The reference (tests/reference_metrics.py) is plain Python over the csv and toml files; the
data sets (tests/datagen.py) are random but seeded, full of the rows an audit must catch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import datagen  # noqa: E402
import reference_metrics as ref  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ROLES = ("cfo", "accounting", "ceo", "cto", "cmo")
AS_OF_DATES = ("2025-03-31", "2025-02-14", "2024-12-31", "2025-06-15")
# (seed, number of entities): four entities bring in the negative-margin profile
DATASETS = ((1, 3), (2, 3), (3, 4), (11, 4), (42, 3))


# ---------------------------------------------------------------------------- helpers


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECREPORT_")}
    env["EXECREPORT_LOAD_PLUGINS"] = ""  # no third-party plugins
    return env


@pytest.fixture(scope="session")
def execreport_available() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import execreport.cli"],
        capture_output=True,
        text=True,
        env=_clean_env(),
    )
    # the package under test failing to import is a failure of every test that needs it
    assert probe.returncode == 0, f"execreport is not importable: {probe.stderr.strip()[-2000:]}"


def build_metrics(config: Path, as_of: str, cwd: Path) -> dict[str, dict]:
    """Run `execreport build --json` and return {role: metrics}."""
    cmd = [
        sys.executable,
        "-m",
        "execreport",
        "build",
        "--json",
        "--config",
        str(config),
        "--as-of",
        as_of,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=_clean_env())
    assert done.returncode == 0, (
        f"{' '.join(cmd)} exited {done.returncode}\nstdout:\n{done.stdout[-2000:]}\n"
        f"stderr:\n{done.stderr[-4000:]}"
    )
    try:
        reports = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"stdout is not JSON ({exc}):\n{done.stdout[:2000]}") from exc
    assert isinstance(reports, list), f"expected a JSON array of reports, got {type(reports)}"
    return {report["role"]: report.get("metrics") for report in reports}


def _same(kind: str, expected, got) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if kind == ref.MONEY:
        return isinstance(got, str) and got == expected
    if isinstance(got, bool):
        return False
    if kind == ref.MONTH:
        return isinstance(got, str) and got == expected
    if kind == ref.FORECAST:
        return isinstance(got, list) and got == expected
    if kind == ref.COUNT:
        return isinstance(got, int) and got == expected
    return isinstance(got, (int, float)) and got == expected


def metric_mismatches(expected: dict, actual: dict) -> list[str]:
    """One line per required figure that differs: role, entity, key, expected, got."""
    problems = []
    for role in ROLES:
        got_role = actual.get(role)
        if not isinstance(got_role, dict):
            problems.append(f"{role}: no report or no metrics (got {got_role!r})")
            continue
        for entity, figures in expected[role].items():
            got_entity = got_role.get(entity)
            if not isinstance(got_entity, dict):
                problems.append(f"{role}/{entity}: missing (got {got_entity!r})")
                continue
            for key, kind in ref.KEYS[role].items():
                if key not in got_entity:
                    problems.append(f"{role}/{entity}/{key}: missing, expected {figures[key]!r}")
                elif kind == ref.FORECAST and isinstance(got_entity[key], list):
                    want, got = figures[key], got_entity[key]
                    if len(got) != len(want):
                        problems.append(
                            f"{role}/{entity}/{key}: {len(got)} months, expected {len(want)}"
                        )
                    for w, g in zip(want, got, strict=False):  # month by month
                        if w != g:
                            problems.append(f"{role}/{entity}/{key}: expected {w!r}, got {g!r}")
                elif not _same(kind, figures[key], got_entity[key]):
                    problems.append(
                        f"{role}/{entity}/{key}: expected {figures[key]!r}, got {got_entity[key]!r}"
                    )
    return problems


def assert_metrics_match(config: Path, as_of: str, cwd: Path) -> None:
    expected = ref.compute_from_config(config, date.fromisoformat(as_of))
    actual = build_metrics(config, as_of, cwd)
    problems = metric_mismatches(expected, actual)
    assert not problems, (
        f"{len(problems)} metric(s) differ from METRICS.md for {config} as of {as_of}:\n"
        + "\n".join(problems)
    )


# ---------------------------------------------------------------------------- generated data


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[tuple[int, int], Path]:
    out = {}
    for seed, n in DATASETS:
        root = tmp_path_factory.mktemp(f"data-{seed}-{n}")
        out[(seed, n)] = datagen.make_dataset(root, seed, n_entities=n)
    return out


@pytest.mark.parametrize("as_of", AS_OF_DATES)
@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: f"seed{d[0]}-{d[1]}entities")
def test_build_metrics_equal_the_reference(execreport_available, datasets, dataset, as_of):
    config = datasets[dataset]
    assert_metrics_match(config, as_of, config.parent)


def test_generated_data_covers_the_null_cases(datasets):
    """The data sets reach every branch: no burn, no revenue, negative margin, no stack."""
    seen = {
        "runway null": False,
        "runway 0": False,
        "runway positive": False,
        "cm_ratio null": False,
        "cm_ratio negative": False,
        "break_even defined": False,
        "security_score null": False,
        "kpi_coverage null": False,
        "email_list null": False,
        "unearned revenue": False,
        "outliers": False,
        "duplicates": False,
        "near duplicates": False,
        "revenue_3m_ly null": False,
        "revenue_3m_ly defined": False,
        "cash_out_month set": False,
        "cash_out_month null": False,
        "funding need": False,
    }
    for config in datasets.values():
        for as_of in AS_OF_DATES:
            metrics = ref.compute_from_config(config, date.fromisoformat(as_of))
            for entity, cfo in metrics["cfo"].items():
                acc = metrics["accounting"][entity]
                seen["runway null"] |= cfo["runway_months"] is None
                seen["runway 0"] |= cfo["runway_months"] == 0
                seen["runway positive"] |= bool(cfo["runway_months"])
                seen["cm_ratio null"] |= cfo["cm_ratio"] is None
                seen["cm_ratio negative"] |= (cfo["cm_ratio"] or 0) < 0
                seen["break_even defined"] |= cfo["break_even_revenue"] is not None
                seen["security_score null"] |= metrics["cto"][entity]["security_score"] is None
                seen["kpi_coverage null"] |= metrics["ceo"][entity]["kpi_coverage"] is None
                seen["email_list null"] |= metrics["cmo"][entity]["email_list"] is None
                seen["unearned revenue"] |= acc["unearned_revenue_rows"] > 0
                seen["outliers"] |= acc["outlier_rows"] > 0
                seen["duplicates"] |= acc["duplicate_rows"] > 0
                seen["near duplicates"] |= acc["near_duplicate_pairs"] > 0
                seen["revenue_3m_ly null"] |= cfo["revenue_3m_ly"] is None
                seen["revenue_3m_ly defined"] |= cfo["revenue_3m_ly"] is not None
                seen["cash_out_month set"] |= cfo["cash_out_month"] is not None
                seen["cash_out_month null"] |= cfo["cash_out_month"] is None
                seen["funding need"] |= cfo["funding_need_12m"] != "0.00"
    assert all(seen.values()), {k: v for k, v in seen.items() if not v}


def test_datagen_is_deterministic(tmp_path):
    first = datagen.make_dataset(tmp_path / "a", 5)
    second = datagen.make_dataset(tmp_path / "b", 5)
    files = [p for p in sorted(first.parent.rglob("*")) if p.is_file()]
    data = [p for p in files if p.name != "execreport.toml"]
    assert any(p.name == "ledger.csv" for p in data), files  # something was compared
    for path in data:
        twin = second.parent / path.relative_to(first.parent)
        assert path.read_bytes() == twin.read_bytes(), path
    twins = {p.relative_to(second.parent) for p in second.parent.rglob("*") if p.is_file()}
    assert twins == {p.relative_to(first.parent) for p in files}


# ---------------------------------------------------------------------------- example data


@pytest.mark.parametrize("as_of", (None,) + AS_OF_DATES)
def test_example_metrics_equal_the_reference(execreport_available, tmp_path, as_of):
    source = REPO / "examples"
    assert (source / "execreport.toml").is_file(), "examples/execreport.toml is missing"
    # a copy, so that archives or outboxes the build may write stay out of the work tree
    examples = tmp_path / "examples"
    shutil.copytree(source, examples, ignore=shutil.ignore_patterns(".execreport", "outbox"))
    config = examples / "execreport.toml"
    table = tomllib.loads(config.read_text("utf-8"))
    assert table.get("entities"), "examples/execreport.toml names no entities"
    missing = [k for k, v in table["entities"].items() if "path" not in v]
    assert not missing, f"entities without a path the reference can read: {missing}"
    when = as_of or str(table.get("report", {}).get("as_of", "2025-03-31"))
    assert_metrics_match(config, when, examples)


# ---------------------------------------------------------------------------- edge cases


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"


def one_entity(root: Path, ledger: str, profile: str = "", kpis: str = "") -> Path:
    """A config with one generic entity `e` whose files hold the given text."""
    _write(root / "e" / "entity.toml", 'name = "E"\n' + profile)
    _write(root / "e" / "ledger.csv", HEADER + ledger)
    if kpis:
        _write(root / "e" / "kpis.csv", "date,kpi,value\n" + kpis)
    config = root / "execreport.toml"
    _write(
        config,
        '[report]\nas_of = "2025-03-31"\n\n[archive]\npath = "archive.sqlite3"\n\n'
        '[entities.e]\npath = "e"\n\n[delivery]\nsender = "outbox"\n'
        'from = "reports@example.com"\nto = ["exec@example.com"]\n\n'
        '[delivery.outbox]\npath = "outbox"\n',
    )
    return config


def _rows(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


# (name, ledger rows, entity.toml text, as_of, {(role, key): the figure METRICS.md gives})
EDGE_CASES = [
    (
        # median 100, MAD 13.49; 30 and 170 score exactly 0.6745 * 70 / 13.49 = 3.5, which
        # does not exceed 3.5 (in DOUBLE, 113.49 - 100 and 100 - 86.51 fall short of 13.49, so
        # the MAD does and the score ends just above 3.5)
        "outlier_score_exactly_3_5_is_not_an_outlier",
        _rows(
            *(
                f"2025-03-0{i + 1},-{v},6100,Software,V{i},,,r"
                for i, v in enumerate(["30.00", "86.51", "100.00", "113.49", "170.00"])
            )
        ),
        "",
        "2025-03-31",
        {("accounting", "outlier_rows"): 0},
    ),
    (
        # net burn (100.00 - 100.01) / 3 = -0.0033..: rounds to zero, written without a sign
        "money_that_rounds_to_zero_has_no_sign",
        _rows("2025-03-01,100.01,4000,Sales,A,,,", "2025-03-02,-100.00,6100,Software,B,,,r"),
        "",
        "2025-03-31",
        {("cfo", "net_burn_3m"): "0.00", ("cfo", "runway_months"): None},
    ),
    (
        # -12.5 and -12.50 are the same amount; the third row is two days later
        "amounts_compare_by_value",
        _rows(
            "2025-03-01,-12.5,6100,Software,Acme,,,r",
            "2025-03-01,-12.50,6100,Software,ACME,,,r",
            "2025-03-03,-12.5,6100,Software,acme,,,r",
        ),
        "",
        "2025-03-31",
        {("accounting", "duplicate_rows"): 1, ("accounting", "near_duplicate_pairs"): 2},
    ),
    (
        # white space as Python sees it: a no-break space inside a counterparty, a tab around
        # a category and a receipt of blanks
        "unicode_white_space_normalizes_like_python",
        _rows(
            "2025-03-01,-90.00,6400,Travel,Home\u00a0Depot,,,r",
            "2025-03-01,-90.00,6400,Travel, home depot ,,,r",
            "2025-03-02,-95.00,6400,\tmeals\u2003,Cafe,,,\u3000",
            "2025-03-03,-95.00,6100,\u00a0misc,Cafe,,,r",
        ),
        "",
        "2025-03-31",
        {
            ("accounting", "duplicate_rows"): 1,
            ("accounting", "missing_receipt_rows"): 1,
            ("accounting", "uncategorized_rows"): 1,
        },
    ),
    (
        "an_empty_ledger_has_zero_figures",
        "",
        'opening_cash = "500.00"\n',
        "2025-03-31",
        {("cfo", "cash"): "500.00", ("cfo", "cm_ratio"): None, ("cfo", "runway_months"): None},
    ),
    (
        # A = 2024-02-29: the audit window starts after 2023-02-28 (clamped month end)
        "audit_window_of_a_leap_day",
        _rows(
            "2023-02-28,-80.00,6100,Misc,A,,,",
            "2023-03-01,-80.00,6100,Misc,A,,,",
            "2024-02-29,100.00,4000,Sales,A,,,",
        ),
        "",
        "2024-02-29",
        {("accounting", "uncategorized_rows"): 1, ("cfo", "revenue_3m"): "100.00"},
    ),
    (
        # TOML dates and numbers, not strings; rows before opening_date are not cash
        "toml_native_dates_and_numbers",
        _rows("2024-01-01,5.00,1000,Cash,A,,,", "2024-03-01,7.00,1000,Cash,A,,,"),
        'opening_cash = 10.5\nopening_date = 2024-02-01\n[[assets]]\nname = "a"\n'
        "expires = 2025-03-30\n",
        "2025-03-31",
        {("cfo", "cash"): "17.50", ("ceo", "assets_expired"): 1},
    ),
]


@pytest.mark.parametrize(
    "name,ledger,profile,as_of,figures", EDGE_CASES, ids=[case[0] for case in EDGE_CASES]
)
def test_edge_case_metrics(execreport_available, tmp_path, name, ledger, profile, as_of, figures):
    config = one_entity(tmp_path, ledger, profile)
    expected = ref.compute_from_config(config, date.fromisoformat(as_of))
    for (role, key), value in figures.items():  # the reference agrees with the hand figure
        assert expected[role]["e"][key] == value, (name, role, key, expected[role]["e"][key])
    assert_metrics_match(config, as_of, tmp_path)


# ---------------------------------------------------------------------------- the reference

OLD_CFO = (
    "cash",
    "revenue_3m",
    "gross_burn_3m",
    "net_burn_3m",
    "runway_months",
    "cm_ratio",
    "break_even_revenue",
    "margin_of_safety",
)


def two_entities(root: Path, ledgers: dict[str, tuple[str, str]], as_of: str) -> Path:
    """A config with entities {key: (entity.toml text, ledger rows)}."""
    parts = [f'[report]\nas_of = "{as_of}"\n\n[archive]\npath = "archive.sqlite3"\n']
    for key, (profile, ledger) in ledgers.items():
        _write(root / key / "entity.toml", f'name = "{key.upper()}"\n' + profile)
        _write(root / key / "ledger.csv", HEADER + ledger)
        parts.append(f'[entities.{key}]\npath = "{key}"\n')
    parts.append(
        '[delivery]\nsender = "outbox"\nfrom = "reports@example.com"\n'
        'to = ["exec@example.com"]\n\n[delivery.outbox]\npath = "outbox"\n'
    )
    config = root / "execreport.toml"
    _write(config, "\n".join(parts))
    return config


def _forecast(start: str, values: list[str]) -> list[dict[str, str]]:
    year, month = (int(x) for x in start.split("-"))
    out = []
    for value in values:
        out.append({"month": f"{year:04d}-{month:02d}", "cash": value})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def test_new_cfo_figures_hand_computed(execreport_available, tmp_path):
    """Prior year, recognized revenue, 12-month burn and the forecast of two entities, by hand
    (A = 2025-03-31), in the reference and in `build --json`."""
    seasonal = _rows(
        "2024-01-01,1000.00,4000,Sales,A,,,",  # the earliest row: on the first LY day
        "2024-02-10,-200.00,6100,Software,B,,,r",
        "2024-07-04,5000.00,4000,Sales,C,,2024-07-04,",
        "2024-07-05,-1000.00,5000,Crew,D,,,r",
        "2024-12-20,250.00,4000,Sales,E,,2025-01-15,",  # booked Dec, recognized Jan
        "2025-01-10,1500.00,4000,Sales,F,,2025-04-20,",  # booked Jan, recognized April
        "2025-02-10,-600.00,6100,Software,B,,,r",
        "2025-02-20,400.00,4000,Sales,G,,2025-03-05,",
        "2025-03-01,300.00,4000,Sales,H,,2024-12-30,",  # recognized before the window
        "2025-03-15,-300.00,7000,Rent,I,,,r",
    )
    young = _rows(
        "2024-10-01,100.00,4000,Sales,A,,,",  # the earliest row
        "2025-01-15,-400.00,6100,Software,B,,,r",
        "2025-03-10,-200.00,5000,Crew,C,,,r",
    )
    config = two_entities(
        tmp_path,
        {"s": ('opening_cash = "2000.00"\n', seasonal), "n": ('opening_cash = "100"\n', young)},
        "2025-03-31",
    )
    m = ref.compute_from_config(config, date(2025, 3, 31))["cfo"]
    new = [k for k, _ in ref.KEYS["cfo"].items() if k not in OLD_CFO]
    # s: cash 2000 + 6350 (the rows) = 8350; revenue Jan-Mar 2025 = 1500 + 400 + 300 = 2200;
    # LY Jan-Mar 2024 = 1000: +120%; recognized in Jan-Mar 2025: 250 + 400 = 650
    # operating Apr 2024-Mar 2025: Jul 4000, Dec 250, Jan 1500, Feb -200: burn -5550/12
    # forecast from 8350: Jul +4000, Dec +250, Jan +1500, Feb -200 (last year's months)
    assert {k: m["s"][k] for k in new} == {
        "revenue_3m_ly": "1000.00",
        "revenue_yoy": 1.2,
        "recognized_revenue_3m": "650.00",
        "net_burn_12m": "-462.50",
        "cash_forecast": _forecast(
            "2025-04",
            ["8350.00"] * 3 + ["12350.00"] * 5 + ["12600.00", "14100.00", "13900.00", "13900.00"],
        ),
        "cash_out_month": None,
        "funding_need_12m": "0.00",
    }
    # n: cash 100 + 100 - 400 - 200 = -400; earliest row 2024-10-01 is after 2024-01-01: no
    # LY; net burn 3m (200 + 400 - 0) / 3 = 200; 12m: 500 / 12 = 41.666..
    # forecast Apr-Sep: no row on or before last year's month: -200 each; Oct +100 (2024-10),
    # Jan -400 (2025-01), Mar -200 (2025-03); cash already negative: out in A's month
    assert {k: m["n"][k] for k in new} == {
        "revenue_3m_ly": None,
        "revenue_yoy": None,
        "recognized_revenue_3m": "0.00",
        "net_burn_12m": "41.67",
        "cash_forecast": _forecast(
            "2025-04",
            ["-600.00", "-800.00", "-1000.00", "-1200.00", "-1400.00", "-1600.00"]
            + ["-1500.00"] * 3
            + ["-1900.00", "-1900.00", "-2100.00"],
        ),
        "cash_out_month": "2025-03",
        "funding_need_12m": "2100.00",
    }
    # the holding: forecasts summed month by month; funding need 0 + 2100, not netted away
    # by s's cash; over all rows: LY 1000 (earliest 2024-01-01), 12m burn -(5550 - 500) / 12
    assert {k: m["consolidated"][k] for k in new} == {
        "revenue_3m_ly": "1000.00",
        "revenue_yoy": 1.2,
        "recognized_revenue_3m": "650.00",
        "net_burn_12m": "-420.83",
        "cash_forecast": _forecast(
            "2025-04",
            ["7750.00", "7550.00", "7350.00", "11150.00", "10950.00", "10750.00"]
            + ["10850.00", "10850.00", "11100.00", "12200.00", "12000.00", "11800.00"],
        ),
        "cash_out_month": None,
        "funding_need_12m": "2100.00",
    }
    assert_metrics_match(config, "2025-03-31", tmp_path)
    assert_metrics_match(config, "2025-03-14", tmp_path)  # mid-month: L is February


def test_reference_metrics_hand_computed(tmp_path):
    """Figures for a ten-row ledger, computed by hand (A = 2025-03-31)."""
    _write(
        tmp_path / "hand" / "entity.toml",
        """
name = "Hand"
opening_cash = "1000.00"
opening_date = "2025-01-01"

[[assets]]
name = "a"
expires = "2025-03-30"   # before A: expired
[[assets]]
name = "b"
expires = "2025-03-31"   # A: expiring
[[assets]]
name = "c"
expires = "2025-05-30"   # A + 60 days: expiring
[[assets]]
name = "d"
expires = "2025-05-31"   # A + 61 days: neither
[[assets]]
name = "e"               # no expiry: neither

[[stack]]                # 7 + 3 mail checks, all pass
name = "site"
monthly_cost = "42.10"
mfa = true
tls = true
hsts = true
backups = true
dependency_updates = true
logging = true
secrets_in_repo = false
sends_mail = true
spf = true
dkim = true
dmarc = "reject"

[[stack]]                # 7 checks; mfa (missing), hsts, secrets_in_repo (missing) fail
name = "api"
monthly_cost = "7.90"
tls = true
hsts = false
backups = true
dependency_updates = true
logging = true
sends_mail = false

[[channels]]
name = "x"
status = "absent"
[[channels]]
name = "y"
status = "claimed"
[[channels]]
name = "z"
status = "optimised"
[[channels]]
name = "w"
status = "claimed"

[[kpis]]
name = "a"
[[kpis]]
name = "b"
[[kpis]]
name = "c"

[audience]
email_list = 3676
""",
    )
    _write(
        tmp_path / "hand" / "ledger.csv",
        HEADER
        # 1: before opening_date and the trailing months; inside the audit window
        + "2024-12-15,500.00,4000,Sales,Acme,,,\n"
        # 2: revenue; unearned (service after A)
        + "2025-01-10,3000.00,4000,Sales,Acme,,2025-04-15,\n"
        # 3: a refund: revenue -200, not an expense row
        + "2025-02-10,-200.00,4000,Refunds,Acme,,,\n"
        # 4, 5: the same expense (counterparty normalized): one duplicate row; cogs 1800
        + "2025-01-20,-900.00,5000,Supplies,Home  Depot,,,r1\n"
        + '2025-01-20,-900.00,5000,supplies," home depot ",,,r1\n'
        # 6: 2 days after 4 and 5: two near-duplicate pairs; cogs 900
        + "2025-01-22,-900.00,5000,Supplies,HOME DEPOT,,,r2\n"
        # 7: opex 1500
        + "2025-02-01,-1500.00,7000,Rent,Landlord,,,lease\n"
        # 8: opex 120; meals >= 75 without a receipt
        + "2025-03-05,-120.00,6410, Meals ,Bistro,,,\n"
        # 9: account not four digits: no class, uncategorized (counted once), in cash
        + "2025-03-06,-50.00,61O0,Misc,Cafe,,,\n"
        # 10: after A: nowhere
        + "2025-04-02,-300.00,6400,Travel,Airline,,,\n",
    )
    _write(
        tmp_path / "hand" / "kpis.csv",
        "date,kpi,value\n"
        "2025-03-02,a,1\n"  # A - 29 days: covered
        "2025-03-01,b,1\n"  # A - 30 days: not
        "2025-04-01,c,1\n",  # after A: not
    )
    # A second entity: no opening cash or date, one expense that duplicates row 4 across
    # entities, and no assets, stack, KPIs, channels or audience.
    _write(tmp_path / "two" / "entity.toml", 'name = "Two"\n')
    _write(
        tmp_path / "two" / "ledger.csv", HEADER + "2025-01-20,-900.00,5000,Supplies,HOME DEPOT,,,\n"
    )

    m = ref.compute_metrics(
        [("hand", tmp_path / "hand"), ("two", tmp_path / "two")], date(2025, 3, 31)
    )

    # hand: cash = 1000 + (3000 - 200 - 900*3 - 1500 - 120 - 50) = 1000 - 1570 = -570
    # trailing months Jan-Mar 2025: revenue 2800, cogs 2700, opex 1620
    # gross burn 4320/3 = 1440; net burn 1520/3 = 506.666..; runway max(-570, 0)/.. = 0
    # cm = 100/2800 = 0.0357..; break-even = 540 / (1/28) = 15120 (not 540/0.04 = 13500)
    # margin of safety = (2800/3 - 15120) / (2800/3) = 1 - 16.2 = -15.2
    assert {k: m["cfo"]["hand"][k] for k in OLD_CFO} == {
        "cash": "-570.00",
        "revenue_3m": "2800.00",
        "gross_burn_3m": "1440.00",
        "net_burn_3m": "506.67",
        "runway_months": 0.0,
        "cm_ratio": 0.04,
        "break_even_revenue": "15120.00",
        "margin_of_safety": -15.2,
    }
    # two: cash = 0 - 900; revenue 0 so cm, break-even and margin are null; burn 900/3
    assert {k: m["cfo"]["two"][k] for k in OLD_CFO} == {
        "cash": "-900.00",
        "revenue_3m": "0.00",
        "gross_burn_3m": "300.00",
        "net_burn_3m": "300.00",
        "runway_months": 0.0,
        "cm_ratio": None,
        "break_even_revenue": None,
        "margin_of_safety": None,
    }
    # consolidated: cash -570 - 900; revenue 2800, cogs 3600, opex 1620
    # gross 5220/3 = 1740; net 2420/3 = 806.666..; cm = -800/2800 = -0.2857..: no break-even
    assert {k: m["cfo"]["consolidated"][k] for k in OLD_CFO} == {
        "cash": "-1470.00",
        "revenue_3m": "2800.00",
        "gross_burn_3m": "1740.00",
        "net_burn_3m": "806.67",
        "runway_months": 0.0,
        "cm_ratio": -0.29,
        "break_even_revenue": None,
        "margin_of_safety": None,
    }
    # audit window 2024-03-31 < date <= 2025-03-31: rows 1-9; expense rows 4-8
    assert m["accounting"]["hand"] == {
        "duplicate_rows": 1,
        "near_duplicate_pairs": 2,
        "uncategorized_rows": 1,
        "outlier_rows": 0,
        "missing_receipt_rows": 1,
        "unearned_revenue": "3000.00",
        "unearned_revenue_rows": 1,
    }
    # consolidated: the 2025-01-20 group has 3 rows (2 duplicates); row 6 pairs with all 3
    assert m["accounting"]["consolidated"]["duplicate_rows"] == 2
    assert m["accounting"]["consolidated"]["near_duplicate_pairs"] == 3
    assert m["accounting"]["two"]["duplicate_rows"] == 0

    assert m["ceo"]["hand"] == {
        "assets": 5,
        "assets_expired": 1,
        "assets_expiring_60d": 2,
        "kpi_coverage": 0.33,
    }
    assert m["ceo"]["two"]["kpi_coverage"] is None
    assert m["ceo"]["consolidated"]["kpi_coverage"] == 0.33
    # 17 checks, 3 failed: 14/17 = 0.8235..
    assert m["cto"]["hand"] == {
        "stack_monthly_cost": "50.00",
        "security_checks": 17,
        "security_checks_failed": 3,
        "security_score": 0.82,
    }
    assert m["cto"]["two"] == {
        "stack_monthly_cost": "0.00",
        "security_checks": 0,
        "security_checks_failed": 0,
        "security_score": None,
    }
    assert m["cto"]["consolidated"]["security_score"] == 0.82
    assert m["cmo"]["hand"] == {"channels_absent": 1, "channels_live": 3, "email_list": 3676}
    assert m["cmo"]["two"] == {"channels_absent": 0, "channels_live": 0, "email_list": None}
    assert m["cmo"]["consolidated"] == {
        "channels_absent": 1,
        "channels_live": 3,
        "email_list": 3676,
    }


def test_reference_terms_hand_computed():
    # trailing months: A's month counts only when A is its last day
    assert ref.trailing_3_months(date(2025, 3, 31)) == (date(2025, 1, 1), date(2025, 3, 31))
    assert ref.trailing_3_months(date(2025, 2, 14)) == (date(2024, 11, 1), date(2025, 1, 31))
    assert ref.trailing_3_months(date(2024, 12, 31)) == (date(2024, 10, 1), date(2024, 12, 31))
    assert ref.trailing_3_months(date(2024, 2, 29)) == (date(2023, 12, 1), date(2024, 2, 29))
    # audit window lower bound, clamped to the month's end
    assert ref.add_months(date(2024, 2, 29), -12) == date(2023, 2, 28)
    assert ref.add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert not ref.in_audit_window(date(2024, 3, 31), date(2025, 3, 31))
    assert ref.in_audit_window(date(2024, 4, 1), date(2025, 3, 31))
    assert [ref.account_class(a) for a in ("4000", "61O0", "", "610", "61000", " 6100")] == [
        4,
        None,
        None,
        None,
        None,
        None,
    ]
    assert ref.normalize_counterparty("  Home   DEPOT ") == "home depot"
    assert ref.money(Decimal("-0.004")) == "0.00"
    assert ref.money(Decimal("2.005")) == "2.01"
    assert ref.ratio(Decimal("0.125")) == 0.13


def test_reference_outliers_hand_computed():
    def rows(values, category="Software"):
        return [
            ref.Row(date(2025, 1, i + 1), Decimal(-v), "6100", category, f"v{i}", None, "r")
            for i, v in enumerate(values)
        ]

    # median 12, |x - 12| = 2,1,0,1,88 so MAD 1: 100 scores 0.6745*88 = 59.4; 10 scores 1.35
    assert (
        ref.accounting_metrics(rows([10, 11, 12, 13, 100]), date(2025, 3, 31))["outlier_rows"] == 1
    )
    # MAD 0: no outliers
    assert (
        ref.accounting_metrics(rows([10, 10, 10, 10, 99]), date(2025, 3, 31))["outlier_rows"] == 0
    )
    # four rows: too few
    assert ref.accounting_metrics(rows([10, 11, 12, 100]), date(2025, 3, 31))["outlier_rows"] == 0
    # categories as written: "Software" and "software" are two groups of 3
    mixed = rows([10, 11, 100]) + rows([10, 12, 13], "software")
    assert ref.accounting_metrics(mixed, date(2025, 3, 31))["outlier_rows"] == 0
    # even count: median of 10,11,12,13,14,100 = 12.5; deviations .5,1.5,1.5,2.5,2.5,87.5
    # MAD 2; 100 scores 0.6745*87.5/2 = 29.5; 10 scores 0.84
    assert (
        ref.accounting_metrics(rows([10, 11, 12, 13, 14, 100]), date(2025, 3, 31))["outlier_rows"]
        == 1
    )


# ---------------------------------------------------------------------------- one revenue truth


def _bridge(rows: list, as_of: date) -> dict[str, Decimal]:
    """Booked → recognized revenue and the unearned split, from the rows (plain Python)."""
    start, end = ref.trailing_3_months(as_of)
    out = dict.fromkeys(("out", "unearned_in", "before", "in", "u_before", "u_after"), Decimal(0))
    for row in rows:
        if ref.account_class(row.account) != 4 or row.date > as_of:
            continue
        when = row.service_date or row.date
        booked_in = start <= row.date <= end
        unearned = row.service_date is not None and row.service_date > as_of
        if booked_in and when > end:
            out["out"] += row.amount
        if booked_in and unearned:
            out["unearned_in"] += row.amount
        if booked_in and when < start:
            out["before"] += row.amount
        if not booked_in and start <= when <= end:
            out["in"] += row.amount
        if unearned and row.date < start:
            out["u_before"] += row.amount
        if unearned and row.date > end:
            out["u_after"] += row.amount
    return out


@pytest.mark.parametrize("as_of", ("2025-03-31", "2025-02-14", "2025-06-15"))
@pytest.mark.parametrize("dataset", DATASETS[:3], ids=lambda d: f"seed{d[0]}-{d[1]}entities")
def test_cfo_recognized_revenue_reconciles_with_accounting_deferred_revenue(
    execreport_available, datasets, dataset, as_of
):
    """recognized = booked - deferred out - earned before + deferred in, to the cent, and the
    CFO's still-unearned part is the Accounting report's unearned revenue booked in the same
    months; Accounting's split adds up to its unearned revenue."""
    config = datasets[dataset]
    when = date.fromisoformat(as_of)
    got = build_metrics(config, as_of, config.parent)
    cfo, acc = got["cfo"], got["accounting"]
    data = [ref.read_entity(k, p) for k, p in ref.entities_from_config(config)]
    scopes = {e.key: e.rows for e in data} | {"consolidated": [r for e in data for r in e.rows]}
    seen_deferred = False
    for scope, rows in scopes.items():
        c, a, want = cfo[scope], acc[scope], _bridge(rows, when)
        d = {k: Decimal(c[k]) for k in c if k.startswith("revenue_") and isinstance(c[k], str)}
        assert d["revenue_deferred_out"] == want["out"], scope
        assert d["revenue_deferred_unearned"] == want["unearned_in"], scope
        assert d["revenue_earned_before"] == want["before"], scope
        assert d["revenue_deferred_in"] == want["in"], scope
        assert Decimal(c["recognized_revenue_3m"]) == (
            Decimal(c["revenue_3m"])
            - d["revenue_deferred_out"]
            - d["revenue_earned_before"]
            + d["revenue_deferred_in"]
        ), scope
        assert Decimal(a["unearned_booked_in_cfo_window"]) == want["unearned_in"], scope
        assert Decimal(a["unearned_booked_before_cfo_window"]) == want["u_before"], scope
        assert Decimal(a["unearned_booked_after_cfo_window"]) == want["u_after"], scope
        assert Decimal(a["unearned_revenue"]) == (
            Decimal(a["unearned_booked_before_cfo_window"])
            + Decimal(a["unearned_booked_in_cfo_window"])
            + Decimal(a["unearned_booked_after_cfo_window"])
        ), scope
        seen_deferred |= want["out"] != 0
    assert seen_deferred  # the data has revenue booked before its service
