"""Reading CSV and JSONL row by row: what the csv module writes comes back cell for cell, with
the line each row starts on; a defect sets aside its row only."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from hxpulse.events.rows import MAX_ROW_LINES, Row, csv_rows, jsonl_rows

HEADER = ["a", "b", "properties.c"]
cells = st.text(alphabet='ab ,"\n\u00e9\u20ac', max_size=6)  # the writer leaves a lone \r unquoted


def read(data: bytes) -> list[Row]:
    return list(csv_rows(io.BytesIO(data), lambda header: None))


@given(st.lists(st.tuples(cells, cells, cells), max_size=8), st.booleans())
def test_what_csv_writes_reads_back_with_its_starting_lines(
    rows: list[tuple[str, str, str]], crlf: bool
) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    got = read(out.getvalue().encode())
    starts, line = [], 2
    for row in rows:
        starts.append(line)
        line += sum(cell.count("\n") for cell in row) + 1
    assert [(r.line, r.problem) for r in got] == [(n, None) for n in starts]
    for row, written in zip(got, rows, strict=True):
        want: dict[str, object] = {k: v for k, v in zip(HEADER[:2], written, strict=False) if v}
        if written[2]:
            want["properties"] = {"c": written[2]}
        assert row.fields == want


def test_a_defect_sets_aside_its_own_row_only() -> None:
    data = b"a,b,properties.c\n" + b"".join([
        b"1,2,3\n",                # 2
        b'1,"2,3\n',               # 3: the quote never closes
        b"4,5,6\n",                # 4
        b"7,8,\xff\n",             # 5: not UTF-8
        b"9,10\n",                 # 6: a cell short
        b'x,"y\n', b'z",w\n',      # 7-8: one row over two lines
    ] + [b'q,"r\n'] + [b"s,t,u\n"] * (MAX_ROW_LINES + 1))  # fmt: skip
    got = {r.line: r for r in read(data)}
    assert got[2].fields == {"a": "1", "b": "2", "properties": {"c": "3"}}
    assert got[3].problem is not None and got[3].text == '1,"2,3'
    assert got[4].fields == {"a": "4", "b": "5", "properties": {"c": "6"}}
    assert got[5].problem == "properties.c: the cell is not valid UTF-8 (byte 0xff at character 1)"
    assert got[5].text == "7,8,\\xff"
    assert got[6].problem == "2 cells where the header has 3 columns"
    assert got[7].fields == {"a": "x", "b": "y\nz", "properties": {"c": "w"}} and 8 not in got
    assert got[9].problem is not None and f"within {MAX_ROW_LINES} lines" in got[9].problem
    assert all(got[n].fields == {"a": "s", "b": "t", "properties": {"c": "u"}}
               for n in range(10, 10 + MAX_ROW_LINES + 1))  # fmt: skip


def test_jsonl_lines_stand_alone() -> None:
    data = b'{"a": 1}\n\n[1]\n{"a": "\xff"}\n{bad\n' + b'{"a":' * 70 + b"1" + b"}" * 70 + b"\n"
    got = list(jsonl_rows(io.BytesIO(b"\xef\xbb\xbf" + data)))
    assert [(r.line, r.fields, r.problem) for r in got[:2]] == [
        (1, {"a": 1}, None), (3, None, "each line must be a JSON object")]  # fmt: skip
    assert got[2].problem is not None and got[2].problem.startswith("line 4 is not valid UTF-8")
    assert got[3].problem is not None and got[3].problem.startswith("the line is not valid JSON")
    assert got[4].problem == "the line nests deeper than 64 levels"
