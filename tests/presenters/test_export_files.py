"""An export's files: a table under the limit is one plain CSV; past it, zipped parts, each under
the limit, each with the header, together every row in order; the download's one zip holds each
table whole."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from kartu.media.exports import ExportFiles, ExportWords, StreamedZip
from kartu.services.reports import LedgerRow, MemberRow

WORDS = ExportWords({"entry_id": "No."}, {"stamp": "stempel", "purchase": "belanja"})
AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def _ledger(first: int, count: int) -> list[LedgerRow]:
    return [
        LedgerRow(
            n, AT, "K7Q29XHM", f"Pelanggan {n} {random.randbytes(6).hex()}", "stamp", 1, "purchase", "Budi"
        )
        for n in range(first, first + count)
    ]


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # Excel reads UTF-8 right
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_a_table_past_the_limit_comes_as_zipped_parts_each_under_it(tmp_path: Path) -> None:
    limit = 60_000
    files = ExportFiles(tmp_path, "kopi-senja", "Asia/Jakarta", WORDS, limit)
    files.members([MemberRow("Ayu", None, "K7Q29XHM", AT, 3, 4, AT, True, 1)])
    for page in range(40):  # pages of 500 rows, about 35 KB each
        files.ledger(_ledger(page * 500 + 1, 500))
    written = files.close()
    assert [(file.table, file.part) for file in written][:2] == [("members", 0), ("ledger", 1)]
    members, *parts = written
    assert members.name == "kopi-senja-members.csv" and members.rows == 1
    assert len(parts) >= 3 and [file.part for file in parts] == list(range(1, len(parts) + 1))
    ids: list[int] = []
    for file in parts:
        assert file.name == f"kopi-senja-ledger-{file.part}.zip"
        assert file.path.stat().st_size < limit + 40_000  # closed at the first page past the limit
        with zipfile.ZipFile(file.path) as archive:
            assert archive.namelist() == [f"kopi-senja-ledger-{file.part}.csv"]
            rows = _rows(archive.read(archive.namelist()[0]))
        assert rows[0][0] == "No." and len(rows) - 1 == file.rows
        ids += [int(row[0]) for row in rows[1:]]
        assert rows[1][3].startswith("Pelanggan") and rows[1][4:7] == ["stempel", "1", "belanja"]
    assert ids == list(range(1, 20_001))  # every row once, in order
    assert not (tmp_path / "kopi-senja-ledger.csv").exists()  # the plain file became part 1


def test_a_small_table_stays_one_plain_csv_and_an_empty_one_has_its_header(tmp_path: Path) -> None:
    files = ExportFiles(tmp_path, "kopi-senja", "Asia/Jakarta", WORDS, 1_000_000)
    files.ledger(_ledger(1, 10))
    members, ledger = files.close()
    assert (members.name, members.rows, ledger.name, ledger.rows) == (
        "kopi-senja-members.csv", 0, "kopi-senja-ledger.csv", 10,
    )  # fmt: skip
    assert len(_rows(members.path.read_bytes())) == 1
    cells = _rows(ledger.path.read_bytes())
    assert cells[1][1] == "2026-03-01 09:00:00" and cells[1][3].startswith("Pelanggan 1 ")


def test_the_download_zip_holds_each_table_whole_as_it_is_written() -> None:
    zipped = StreamedZip("kopi-senja", "Asia/Jakarta", WORDS, waiting=1000)
    zipped.members([MemberRow("=Ayu", None, "K7Q29XHM", AT, 3, 4, None, False, 0)])
    for page in range(10):
        zipped.ledger(_ledger(page * 1000 + 1, 1000))
    zipped.close()
    chunks = []
    while (chunk := zipped.chunks.get_nowait()) is not None:
        chunks.append(chunk)
    assert len(chunks) > 5  # handed over page by page, not at the end
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert archive.namelist() == ["kopi-senja-members.csv", "kopi-senja-ledger.csv"]
        members = _rows(archive.read("kopi-senja-members.csv"))
        ledger = _rows(archive.read("kopi-senja-ledger.csv"))
    assert members[1][0] == "'=Ayu"  # a formula stays text
    assert [int(row[0]) for row in ledger[1:]] == list(range(1, 10_001))


def test_a_part_says_which_of_how_many_and_a_lone_zip_says_only_its_count(tmp_path: Path) -> None:
    from kartu.bot.i18n import load_i18n
    from kartu.media.exports import ExportFile
    from kartu.presenters.owner import export_caption

    i18n = load_i18n()
    part = ExportFile(tmp_path / "a.zip", "kopi-senja-ledger-2.zip", "ledger", 1_234_567, 2)
    with i18n.context(), i18n.use_locale("id"):
        assert export_caption(part, 3, AT, "Asia/Jakarta", "id") == (
            "Catatan transaksi sejak 1 Mar 2026: 1.234.567 · bagian 2 dari 3"
        )
        assert export_caption(part, 1, None, "Asia/Jakarta", "id") == "Catatan transaksi: 1.234.567"
    with i18n.context(), i18n.use_locale("en"):
        assert (
            export_caption(part, 3, None, "Asia/Jakarta", "en") == "Ledger entries: 1,234,567 · part 2 of 3"
        )
