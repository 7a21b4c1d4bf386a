"""Every loader, fed random bytes and random structure, either succeeds or raises one
one-line ExecReportError; never another exception (issue 12: hostile input)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from execreport import ExecReportError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

WORDS = [
    "date",
    "amount",
    "account",
    "category",
    "counterparty",
    "memo",
    "service_date",
    "receipt",
    "entity",
    "line",
    "name",
    "kind",
    "currency",
    "opening_cash",
    "opening_date",
    "assets",
    "stack",
    "channels",
    "kpis",
    "audience",
    "expires",
    "value",
    "status",
    "cards",
    "lists",
    "items",
    "id",
    "title",
    "column",
    "due",
    "labels",
    "owner",
    "idList",
    "closed",
    "content",
    "fieldValues",
    "report",
    "archive",
    "entities",
    "delivery",
    "roles",
    "to",
    "bcc",
    "from",
    "path",
    "board",
    "sender",
    "period",
    "as_of",
    "subject",
    "outbox",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["2025-03-31", "2025-02-30", "-10.00", "NaN", "a@b.example", "x\r\ny", ""]),
)
keys = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=30,
)
raw = st.one_of(st.binary(max_size=600), st.text(max_size=600).map(str.encode))


def expect_clean(load: Any) -> None:
    try:
        load()
    except ExecReportError as exc:
        text = str(exc)
        assert text and "\n" not in text and "\r" not in text, repr(text)


def toml_value(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(value), repr(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return (
        "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    )


def toml_doc(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(str(k))} = {toml_value(v)}\n" for k, v in data.items())


def csv_text(rows: list[list[str]]) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


cells = st.one_of(st.text(max_size=12), st.sampled_from(["2025-01-01", "1.00", "NaN", "", "x\ny"]))


# -- config ----------------------------------------------------------------------------------
def _config(body: bytes) -> None:
    from execreport.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "execreport.toml"
        path.write_bytes(body)
        expect_clean(lambda: load_config(path))


@FUZZ
@given(raw)
def test_config_from_random_bytes(body):
    _config(body)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["report", "archive", "entities", "delivery", "roles", "x"]),
        st.dictionaries(keys, json_like, max_size=5),
        max_size=5,
    )
)
def test_config_from_random_structure(data):
    text = ""
    for table, body in data.items():
        text += f"[{table}]\n" + toml_doc(body)
    _config(text.encode())


# -- entity data -----------------------------------------------------------------------------
def _entity(files: dict[str, bytes]) -> None:
    from execreport.ledger import use_database
    from execreport.sources import FolderSource

    with tempfile.TemporaryDirectory() as tmp, use_database():
        folder = Path(tmp) / "acme"
        folder.mkdir()
        files.setdefault("ledger.csv", b"date,amount\n2025-01-01,1.00\n")
        for name, body in files.items():
            (folder / name).write_bytes(body)
        from datetime import date

        expect_clean(lambda: FolderSource(key="acme").load({"path": folder}, date(2025, 3, 31)))


@FUZZ
@given(raw)
def test_ledger_csv_from_random_bytes(body):
    _entity({"ledger.csv": body})


@FUZZ
@given(
    st.lists(st.sampled_from(WORDS[:10]) | st.text(max_size=8), min_size=1, max_size=8),
    st.lists(st.lists(cells, max_size=9), max_size=8),
)
def test_ledger_csv_from_random_structure(header, rows):
    _entity({"ledger.csv": csv_text([header, *rows]).encode()})


@FUZZ
@given(raw)
def test_kpis_csv_from_random_bytes(body):
    _entity({"kpis.csv": body})


@FUZZ
@given(st.lists(st.lists(cells, max_size=4), max_size=8))
def test_kpis_csv_from_random_structure(rows):
    _entity({"kpis.csv": csv_text([["date", "kpi", "value"], *rows]).encode()})


@FUZZ
@given(raw)
def test_entity_toml_from_random_bytes(body):
    _entity({"entity.toml": body})


@FUZZ
@given(st.dictionaries(keys, json_like, max_size=8))
def test_entity_toml_from_random_structure(data):
    _entity({"entity.toml": toml_doc(data).encode()})


# -- boards ----------------------------------------------------------------------------------
def _board(name: str, body: bytes) -> None:
    from execreport.boards import read_board

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(body)
        expect_clean(lambda: read_board(path, entity="acme"))


@FUZZ
@given(st.sampled_from(["board.json", "board.md", "board.txt"]), raw)
def test_every_board_format_from_random_bytes(name, body):
    _board(name, body)


card = st.dictionaries(st.sampled_from(WORDS[20:40]), json_like, max_size=8)


@FUZZ
@given(
    st.one_of(
        st.lists(card, max_size=5),  # the project's board.json, a list
        st.fixed_dictionaries({"cards": st.lists(card, max_size=5)}),  # ... or {"cards"}
        st.fixed_dictionaries(  # a Trello export
            {"lists": st.lists(card, max_size=4), "cards": st.lists(card, max_size=5)},
            optional={"customFields": st.lists(card, max_size=3)},
        ),
        st.fixed_dictionaries({"items": st.lists(card, max_size=5)}),  # gh project item-list
        json_like,
    )
)
def test_every_json_board_format_from_random_structure(data):
    _board("board.json", json.dumps(data).encode())


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "## Todo",
                    "## Done",
                    "- [ ] a card",
                    "- [x] done @{2025-01-01}",
                    "---",
                    "kanban-plugin: basic",
                    "%% kanban:settings",
                    "***",
                    "- [ ] #tag [owner:: cfo] [due:: 2025-02-30] ^id1",
                    "\t- sub",
                ]
            ),
            st.text(max_size=40),
        ),
        max_size=20,
    )
)
def test_the_markdown_board_from_random_structure(lines):
    _board("board.md", "\n".join(lines).encode())


# -- the archive file ------------------------------------------------------------------------
_GOOD_ARCHIVE: list[bytes] = []


def _good_archive() -> bytes:
    if not _GOOD_ARCHIVE:
        from execreport.archive import Archive

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "a.sqlite3"
            Archive(path).close()
            _GOOD_ARCHIVE.append(path.read_bytes())
    return _GOOD_ARCHIVE[0]


def _archive(body: bytes, new: bool = False) -> None:
    from execreport.archive import Archive

    def open_it() -> None:
        # what opening checks: the file, its integrity, the schema and its columns
        with Archive(path, new=new) as archive:
            assert archive.schema_version >= 1

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.sqlite3"
        path.write_bytes(body)
        expect_clean(open_it)


@FUZZ
@given(raw, st.booleans())
def test_the_archive_from_random_bytes(body, new):
    _archive(body, new)


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=1 << 16), st.integers(0, 255)), max_size=8
    ),
    st.one_of(st.none(), st.integers(min_value=0, max_value=1 << 16)),
)
def test_the_archive_from_a_damaged_good_file(flips, cut):
    data = bytearray(_good_archive())
    for offset, byte in flips:
        data[offset % len(data)] = byte
    if cut is not None:
        data = data[: cut % len(data)]
    _archive(bytes(data))


def test_a_flipped_byte_in_the_schema_text_is_one_line() -> None:
    """A damaged good archive whose schema text no longer decodes (found by the fuzz test:
    byte 879 set to 0x80) is one ExecReportError, not a UnicodeDecodeError."""
    data = bytearray(_good_archive())
    data[879 % len(data)] = 128
    _archive(bytes(data))
