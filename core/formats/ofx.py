"""OFX / QFX bank and card statements (OFX 1.x SGML and 2.x XML) through ofxtools. TRNAMT is
signed as it moves the account: a credit (money in) > 0, a debit < 0; NAME is the payee."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import DataError
from . import load_tuples, money

_TRN = re.compile(r"<STMTTRN>", re.I)


class OFX:
    name = "ofx"
    title = "OFX/QFX statement"
    single_sided = True

    def sniff(self, path: Path, head: str) -> bool:
        top = head[:4096].upper()
        return "OFXHEADER" in top or "<OFX>" in top

    def read(self, path: Path, opts: dict[str, Any], con: Any, table: str) -> None:
        from datetime import date

        text = path.read_text(encoding="utf-8", errors="replace")
        lenient: list[tuple] = []
        # each transaction is checked first, with its line (ofxtools names none); its date is
        # the day written in DTPOSTED (a UTC conversion would move late-evening rows)
        for m in _TRN.finditer(text):
            first = text.count("\n", 0, m.start()) + 1
            block = re.split(r"</STMTTRN>|<STMTTRN>", text[m.end() : m.end() + 4000], flags=re.I)[0]

            def field(tag: str, block: str = block, first: int = first) -> tuple[str, int] | None:
                f = re.search(rf"<{tag}>\s*([^<\r\n]*)", block, re.I)
                return (f.group(1).strip(), first + block[: f.start()].count("\n")) if f else None

            amt = field("TRNAMT")
            if amt is None:
                raise DataError(f"{path}:{first}: transaction without TRNAMT")
            amount = money(amt[0], f"{path}:{amt[1]}", "TRNAMT")
            dt = field("DTPOSTED")
            if dt is None or not re.match(r"\d{8}", dt[0]):
                where = f"{path}:{dt[1] if dt else first}"
                shown = dt[0] if dt else ""
                raise DataError(f"{where}: DTPOSTED {shown!r} is not an OFX date (YYYYMMDD...)")
            try:
                day = date(int(dt[0][:4]), int(dt[0][4:6]), int(dt[0][6:8]))
            except ValueError:
                raise DataError(f"{path}:{dt[1]}: DTPOSTED {dt[0]!r} is not a date") from None
            name, memo, fitid = (field(t) for t in ("NAME", "MEMO", "FITID"))
            payee = _unescape(name[0] if name else "")
            note = _unescape(memo[0] if memo else "")
            lenient.append(
                (
                    first,
                    f"{path}:{first}",
                    day,
                    amount,
                    payee or note,
                    payee or note,
                    note,
                    fitid[0] if fitid else "",
                    False,
                    None,
                    "",
                )
            )
        try:
            from ofxtools.Parser import OFXTree
        except ImportError:
            raise DataError(
                f"{path}: reading OFX needs ofxtools: pip install 'execreport[ofx]'"
            ) from None
        try:
            tree = OFXTree()
            tree.parse(str(path))
            ofx = tree.convert()
            parsed = [t for stmt in ofx.statements for t in stmt.transactions]
        except Exception as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise DataError(f"{path}: not a valid OFX statement: {first_line}") from None
        if len(parsed) != len(lenient):
            raise DataError(
                f"{path}: ofxtools read {len(parsed)} transactions where the file has "
                f"{len(lenient)} <STMTTRN> blocks"
            )
        out = []
        for raw, t in zip(lenient, parsed, strict=True):
            payee = getattr(t, "name", None) or getattr(t, "payee", None) or ""
            payee = str(getattr(payee, "name", payee) or "").strip() or raw[4]
            if Decimal(t.trnamt) != raw[3]:
                raise DataError(f"{raw[1]}: TRNAMT reads as {t.trnamt} and {raw[3]}")
            out.append((*raw[:4], payee, payee, str(t.memo or raw[6]).strip(), *raw[7:]))
        load_tuples(con, table, out)


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


FORMAT = OFX()
