"""OFX / QFX bank and card statements (OFX 1.x SGML and 2.x XML) through ofxtools. TRNAMT is
signed as it moves the account: a credit (money in) > 0, a debit < 0; NAME is the payee."""

from __future__ import annotations

import re
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
        text = path.read_text(encoding="utf-8", errors="replace")
        starts = [text.count("\n", 0, m.start()) + 1 for m in _TRN.finditer(text)]
        # check each transaction's amount and date first: ofxtools names no line
        for n, m in enumerate(_TRN.finditer(text)):
            block = text[m.end() : m.end() + 2000]
            block = re.split(r"</STMTTRN>|<STMTTRN>", block, flags=re.I)[0]
            where = f"{path}:{starts[n]}"
            amt = re.search(r"<TRNAMT>\s*([^<\r\n]*)", block, re.I)
            if not amt:
                raise DataError(f"{where}: transaction without TRNAMT")
            money(
                amt.group(1), f"{path}:{starts[n] + block[: amt.start()].count(chr(10))}", "TRNAMT"
            )
            dt = re.search(r"<DTPOSTED>\s*([^<\r\n]*)", block, re.I)
            if dt:
                where = f"{path}:{starts[n] + block[: dt.start()].count(chr(10))}"
            if not dt or not re.match(r"\d{8}", dt.group(1).strip()):
                shown = dt.group(1).strip() if dt else ""
                raise DataError(f"{where}: DTPOSTED {shown!r} is not an OFX date (YYYYMMDD...)")
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
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{path}: not a valid OFX statement: {first}") from None
        out: list[tuple] = []
        i = 0
        for stmt in ofx.statements:
            for t in stmt.transactions:
                line = starts[i] if i < len(starts) else 0
                i += 1
                where = f"{path}:{line}"
                payee = getattr(t, "name", None) or getattr(t, "payee", None) or ""
                payee = str(getattr(payee, "name", payee) or "").strip()
                memo = str(t.memo or "").strip()
                out.append(
                    (
                        line,
                        where,
                        t.dtposted.date(),
                        money(t.trnamt, where, "TRNAMT"),
                        payee or memo,
                        payee or memo,
                        memo,
                        str(t.fitid or ""),
                        False,
                        None,
                        "",
                    )
                )
        load_tuples(con, table, out)


FORMAT = OFX()
