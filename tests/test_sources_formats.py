"""Issue 14: the books people keep (QuickBooks Online, Xero, OFX, Stripe, a bank CSV,
Beancount) read into the same Ledger. Every expected figure below is worked out by hand from
the sample files in examples/sources/ (the sums are written out next to each)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from execreport.errors import ConfigError, DataError
from execreport.formats.combine import FileSpec
from execreport.ledger import Ledger, use_database
from minidata import ROOT, cli

SAMPLES = ROOT / "examples" / "sources"
D = Decimal


def load(*files: str | Path, accounts: dict | None = None, **spec) -> Ledger:
    paths = [Path(f) if Path(f).is_absolute() else SAMPLES / f for f in files]
    return Ledger.from_files([FileSpec(p, **spec) for p in paths], "acme", accounts)


def by_account(ledger: Ledger) -> dict[str, Decimal]:
    return dict(ledger.sql("SELECT account, sum(amount) FROM ledger GROUP BY 1"))


@pytest.fixture(autouse=True)
def _db():
    with use_database():
        yield


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLES, tmp_path / "s")
    return tmp_path / "s"


def build_json(cfg: Path) -> dict:
    result = cli("build", "--config", str(cfg), "--json", "-r", "cfo", "-r", "accounting", "-q")
    assert result.returncode == 0, result.stderr
    return {r["role"]: r["metrics"] for r in json.loads(result.stdout)}


# -- the must-hold: three formats for one business give the ledger.csv figures -------------
def test_qbo_ofx_stripe_give_the_cfo_figures_of_the_same_ledger_csv(acme):
    metrics = build_json(acme / "execreport.toml")
    cfo = metrics["cfo"]
    mixed, native = cfo["acme"], cfo["acme_native"]
    assert mixed == native
    # by hand: revenue 1500 + 2000 (QBO) + 100 + 250 - 50 (Stripe) = 3800.00;
    # cogs 200 fuel + 3.20 + 7.55 Stripe fees = 210.75; opex 120 + 450 + 35 (bank fee,
    # only in the OFX) = 605.00; cash 1000 opening + 3800 - 815.75 = 3984.25
    assert mixed["revenue_3m"] == "3800.00"
    assert mixed["cash"] == "3984.25"
    assert mixed["gross_burn_3m"] == "271.92"  # 815.75 / 3
    assert mixed["net_burn_3m"] == "-994.75"  # (815.75 - 3800) / 3
    assert mixed["runway_months"] is None
    acc = metrics["accounting"]
    assert acc["acme"]["uncategorized_rows"] == acc["acme_native"]["uncategorized_rows"] == 0


def test_a_bank_row_also_in_quickbooks_counts_once_and_transfers_count_nowhere():
    led = load(
        "acme/qbo-general-ledger.csv",
        "acme/checking.ofx",
        "acme/stripe-balance.csv",
        accounts={"Charter*": "4000", "Fuel": "5000", "Repairs*": "6800", "Slip Fees": "6600"},
    )
    # Jane Doe's 1500.00 is in QBO (01/06) and in the OFX (01/07): one row
    assert led.sql("SELECT count(*) FROM ledger WHERE amount = 1500.00") == [(1,)]
    # the card payment (QBO transfer, OFX -300.00) and the Stripe payout (-96.80 in Stripe,
    # +96.80 in the bank) are not rows at all
    assert led.sql("SELECT count(*) FROM ledger WHERE abs(amount) IN (300.00, 96.80)") == [(0,)]
    dup = led.sql("SELECT count(*) FROM postings WHERE status = 'duplicate'")[0][0]
    assert dup == 5  # deposits 1500, 2000, fuel 200, card payment 300, marina 450
    # the OFX service fee (in no other file) stays, unmapped here: uncategorized, listed
    assert led.sql("SELECT account, category, amount FROM ledger WHERE source_format = 'ofx'") == [
        ("", "uncategorized", D("-35.00"))
    ]


def test_a_transfer_changes_neither_revenue_nor_expenses():
    with_transfer = by_account(load("books.beancount"))
    lines = (SAMPLES / "books.beancount").read_text().split("\n\n")
    no_transfer = [b for b in lines if "Pay the card" not in b]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "b.beancount"
        f.write_text("\n\n".join(no_transfer))
        without = by_account(load(f))
    assert with_transfer == without == {"4000": D("1500.00"), "6000": D("-320.00")}


# -- per format: figures by hand -----------------------------------------------------------
def test_quickbooks_general_ledger_csv():
    led = load("acme/qbo-general-ledger.csv", accounts={"Fuel": "5000"})
    # Charter Income 1500 + 2000 (default: an income account is 4000); Fuel 200 mapped;
    # Repairs & Maintenance 120 and Slip Fees 450 are not mapped: kept, uncategorized
    assert by_account(led) == {"4000": D("3500.00"), "5000": D("-200.00"), "": D("-570.00")}
    assert led.sql(
        "SELECT source_account, count(*), sum(amount) FROM ledger WHERE account = '' "
        "GROUP BY 1 ORDER BY 1"
    ) == [("Repairs & Maintenance", 1, D("-120.00")), ("Slip Fees", 1, D("-450.00"))]
    assert led.sql("SELECT source FROM ledger WHERE amount = -200.00") == [
        (f"{SAMPLES / 'acme/qbo-general-ledger.csv'}:22",)
    ]


def test_quickbooks_transaction_detail_with_debit_and_credit_columns():
    led = load("qbo-transaction-detail.csv")
    # account numbers in the names ("4000 Charter Income") are the chart numbers
    assert by_account(led) == {"4000": D("1500.00"), "5000": D("-200.00")}


def test_quickbooks_xlsx_matches_the_csv_and_names_sheet_and_row(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    import csv

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "General Ledger"
    with (SAMPLES / "acme/qbo-general-ledger.csv").open() as fh:
        for row in csv.reader(fh):
            sheet.append([_typed(c) for c in row])
    path = tmp_path / "gl.xlsx"
    book.save(path)
    led = load(path, accounts={"Fuel": "5000"})
    assert by_account(led) == {"4000": D("3500.00"), "5000": D("-200.00"), "": D("-570.00")}
    assert led.sql("SELECT source FROM ledger WHERE amount = -200.00") == [
        (f"{path}:General Ledger!22",)
    ]
    sheet["H22"] = "two hundred"
    book.save(path)
    with pytest.raises(DataError, match=r"gl\.xlsx:General Ledger!22: Amount 'two hundred'"):
        load(path)


def _typed(cell: str):
    from datetime import datetime

    try:
        return datetime.strptime(cell, "%m/%d/%Y")
    except ValueError:
        pass
    try:
        return float(cell.replace(",", ""))
    except ValueError:
        return cell or None


def test_xero_account_transactions():
    led = load("xero-account-transactions.csv", accounts={"449": "5000"})
    # Sales (200): credits 1500 + 2000; Fuel (449) mapped by its code: debit 200
    assert by_account(led) == {"4000": D("3500.00"), "5000": D("-200.00")}


def test_stripe_payouts_are_never_revenue():
    led = load("acme/stripe-balance.csv")
    # charges 100 + 250, refund -50: revenue 300; fees 3.20 + 7.55; payout -96.80 not a row
    assert by_account(led) == {"4000": D("300.00"), "5200": D("-10.75")}
    assert len(led) == 5


def test_ofx_statement_with_a_mapping():
    led = load(
        "acme/checking.ofx",
        accounts={"JANE*": "4000", "BOB*": "4000", "SHELL*": "5000", "STRIPE*": "transfer"},
    )
    # 1500 + 2000 revenue, -200 fuel; the Stripe deposit is a transfer; -300, -450, -35 are
    # unmapped payees: uncategorized
    assert by_account(led) == {"4000": D("3500.00"), "5000": D("-200.00"), "": D("-785.00")}


def test_bank_csv_with_debit_and_credit_columns():
    led = load(
        "bank-checking.csv",
        accounts={"JANE*": "4000", "MONTHLY SERVICE FEE": "7900"},
        format="bank_csv",
        options={
            "date": "Posted Date",
            "description": "Description",
            "debit": "Debit",
            "credit": "Credit",
            "date_format": "%m/%d/%Y",
        },
    )
    assert by_account(led) == {"4000": D("1500.00"), "7900": D("-35.00"), "": D("-200.00")}


def test_beancount_v3():
    led = load("books.beancount", accounts={"Expenses:Fuel": "5000"})
    # Income:Charters 1500; Expenses:Fuel 200 (mapped); Expenses:Repairs 120 (default 6000);
    # the card payment moves money between Assets:Bank and Liabilities:CreditCard: no row
    assert by_account(led) == {"4000": D("1500.00"), "5000": D("-200.00"), "6000": D("-120.00")}


# -- check, unmapped accounts, bad input ----------------------------------------------------
def test_check_lists_the_mapping_and_the_unmapped_account_with_rows_and_total(acme):
    cfg = acme / "execreport.toml"
    text = cfg.read_text().replace('"Slip Fees" = "6600"\n', "")
    cfg.write_text(text)
    result = cli("check", "--config", str(cfg))
    assert result.returncode == 0, result.stderr
    assert "unmapped 'Slip Fees': 1 rows, total -450.00" in result.stdout
    assert "mapping  'Fuel' -> 5000 (mapping): 1 rows" in result.stdout
    assert "account 'Slip Fees' is not mapped: 1 rows, total -450.00" in result.stderr
    metrics = build_json(cfg)
    assert metrics["accounting"]["acme"]["uncategorized_rows"] == 1
    assert metrics["cfo"]["acme"]["cash"] == "3984.25"  # the row is kept, not dropped


BAD = [
    (
        "acme/qbo-general-ledger.csv",
        ',"01/15/2025","Expense"',
        ',"13/45/2025","Expense"',
        8,
        "date '13/45/2025' is not a date",
    ),
    (
        "acme/qbo-general-ledger.csv",
        '"-200.00","1,300.00"',
        '"-2O0.00","1,300.00"',
        8,
        "Amount '-2O0.00' is not an amount",
    ),
    (
        "acme/stripe-balance.csv",
        "250.00,7.55,242.45",
        "250.00,7.55,24.45",
        4,
        "Net 24.45 is not Amount 250.00 minus Fee 7.55",
    ),
    ("acme/checking.ofx", "<TRNAMT>2000.00", "<TRNAMT>2,000.x", 59, "TRNAMT '2,000.x'"),
]


@pytest.mark.parametrize(("file", "old", "new", "line", "what"), BAD)
def test_a_malformed_row_names_file_and_line_exit_1_nothing_sent(acme, file, old, new, line, what):
    path = acme / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    result = cli("run", "--config", str(acme / "execreport.toml"))
    assert result.returncode == 1, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("execreport: error:")]
    assert len(errors) == 1, result.stderr
    assert f"{path}:{line}: {what}" in errors[0]
    assert "Traceback" not in result.stderr
    assert not (acme / "outbox").exists() or not any((acme / "outbox").rglob("*.eml"))


def test_xero_and_beancount_bad_rows_name_their_line(tmp_path):
    x = tmp_path / "x.csv"
    x.write_text(
        (SAMPLES / "xero-account-transactions.csv")
        .read_text()
        .replace(
            "15 Jan 2025,Spend Money,Shell,Fuel,SPN-1,,200.00",
            "15 Jan 2025,Spend Money,Shell,Fuel,SPN-1,,2OO",
            1,
        )
    )
    with pytest.raises(DataError, match=r"x\.csv:9: Debit '' / Credit '2OO'"):
        load(x)
    b = tmp_path / "b.beancount"
    b.write_text((SAMPLES / "books.beancount").read_text().replace("200.00 USD", "2x0 USD"))
    with pytest.raises(DataError, match=r"b\.beancount:1[0-9]: "):
        load(b)


def test_an_unknown_format_names_the_formats_tried(tmp_path):
    f = tmp_path / "mystery.csv"
    f.write_text("when,how much\n2025-01-01,5\n")
    with pytest.raises(DataError) as err:
        load(f)
    assert "not a known ledger format (tried ledger_csv, qbo, xero, stripe, ofx, beancount)" in str(
        err.value
    )
    with pytest.raises(ConfigError, match="format 'quickbooks' is not known; use one of"):
        load(f, format="quickbooks")


def test_a_memo_with_a_line_break_and_blank_lines_keep_the_line_numbers(tmp_path):
    f = tmp_path / "gl.csv"
    f.write_text(
        '"General Ledger"\n"Co"\n\n'
        '"","Date","Transaction Type","Num","Name","Memo/Description","Split","Amount","Balance"\n'
        '"Fuel"\n'
        ',"01/15/2025","Expense","1","Shell","two\nlines","Checking","200.00","200.00"\n'
        "\n"
        ',"01/16/2025","Expense","2","Shell","one","Checking","2x.00","400.00"\n'
        '"Total for Fuel",,,,,,,"$400.00",\n'
    )
    with pytest.raises(DataError, match=r"gl\.csv:9: Amount '2x\.00' is not an amount"):
        load(f)
    f.write_text(f.read_text().replace("2x.00", "200.00"))
    led = load(f, accounts={"Fuel": "5000"})
    assert led.sql("SELECT line, amount FROM ledger_lines ORDER BY line") == [
        (6, D("-200.00")),
        (9, D("-200.00")),
    ]


def test_a_bad_bank_csv_row_names_its_line(tmp_path):
    f = tmp_path / "bank.csv"
    f.write_text((SAMPLES / "bank-checking.csv").read_text().replace("01/16/2025", "16/01/2025"))
    options = {
        "date": "Posted Date",
        "debit": "Debit",
        "credit": "Credit",
        "date_format": "%m/%d/%Y",
    }
    with pytest.raises(DataError, match=r"bank\.csv:3: date '16/01/2025' is not a date"):
        load(f, format="bank_csv", options=options)
