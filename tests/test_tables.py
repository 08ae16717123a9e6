"""Tables fit the width they are given: cells wrap within narrowed columns, or each row
becomes a block of lines; without a width the cells stay whole. Through the real command
line: ``--max-width``, ``$COLUMNS`` and a terminal's own width."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from cptkg.catalog import load_catalog
from cptkg.tables import (
    MAX_UNBROKEN,
    MIN_COLUMN,
    MIN_TABLE_WIDTH,
    fit_widths,
    min_width,
    text_table,
)

LONG = "word " * 30
ROWS = [["a", LONG.strip(), "x"], ["bb", "short", "yy"]]
HEADER = ["id", "text", "n"]
#: An environment without a terminal width (an empty COLUMNS is ignored).
NO_COLUMNS = {"COLUMNS": ""}


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_without_width_cells_stay_whole():
    lines = text_table(ROWS, HEADER)
    assert LONG.strip() in lines[2]
    assert len(lines) == 4


def test_long_cells_wrap_within_their_column():
    lines = text_table(ROWS, HEADER, max_width=40)
    assert max(len(line) for line in lines) <= 40
    text_col = lines[0].index("text")
    wrapped = [line for line in lines[2:] if line.startswith(" ")]
    assert wrapped, "the long cell did not wrap"
    assert all(line[:text_col].strip() == "" for line in wrapped)
    assert " ".join(line[text_col:].split("  ")[0] for line in lines[2:-1]).split() == (
        LONG.split()
    )


def test_right_aligned_column_stays_right_aligned_when_wrapping():
    lines = text_table([["1", LONG], ["22", "b"]], ["n", "text"], right=(0,), max_width=30)
    assert lines[2].startswith(" 1") and lines[-1].startswith("22")


def test_too_many_columns_become_one_record_per_block():
    header = [f"column{i}" for i in range(12)]
    rows = [[f"value{i}-{r}" for i in range(12)] for r in range(2)]
    lines = text_table(rows, header, max_width=50)
    assert max(len(line) for line in lines) <= 50
    assert lines[0].split() == ["column0", "value0-0"]
    assert "" in lines  # blocks separated by a blank line
    assert lines[lines.index("") + 1].split() == ["column0", "value0-1"]


def test_fit_widths_narrows_the_widest_columns_first():
    assert fit_widths([3, 30, 50], [3, 8, 8], 60) == [3, 26, 26]
    assert fit_widths([3, 4], [3, 4], 60) == [3, 4]
    assert fit_widths([10, 12, 60], [8, 8, 8], 40) == [10, 12, 14]
    assert fit_widths([50] * 10, [MIN_COLUMN] * 10, 60) is None


def test_min_width_keeps_words_whole_up_to_a_limit():
    assert min_width(["policyRecords", "3"]) == len("policyRecords")
    assert min_width(["a b", "c"]) == 3  # never wider than the widest text
    assert min_width(["x" * 50]) == MAX_UNBROKEN
    assert min_width(["ab cd ef gh ij"]) == MIN_COLUMN


def test_a_width_below_the_minimum_is_raised_to_it():
    lines = text_table(ROWS, HEADER, max_width=1)
    assert max(len(line) for line in lines) <= MIN_TABLE_WIDTH


def test_columns_100_payer_matrix_fits(run_cli):
    r = run_cli("query", "payer-matrix", env={"COLUMNS": "100"})
    assert r.returncode == 0, r.stderr
    assert widest(r.stdout) <= 100
    assert "Aetna CPB 0366" in r.stdout and r.stdout.rstrip().endswith("(7 rows)")


@pytest.mark.parametrize("width", ["60", "150"])
def test_max_width_limits_every_line(run_cli, width):
    r = run_cli("query", "payers", "--max-width", width, env=NO_COLUMNS)
    assert r.returncode == 0, r.stderr
    assert widest(r.stdout) <= int(width)


def test_max_width_wins_over_columns(run_cli):
    r = run_cli("queries", "--max-width", "50", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    table, footer = r.stdout.rstrip("\n").rsplit("\n", 1)
    assert widest(table) <= 50 and footer.startswith(f"({len(load_catalog())} queries")


def test_sparql_tables_fit_too(run_cli):
    query = "SELECT ?s ?o WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#comment> ?o }"
    r = run_cli("sparql", query, "--max-width", "80", env=NO_COLUMNS)
    assert r.returncode == 0, r.stderr
    assert widest(r.stdout) <= 80
    assert widest(run_cli("sparql", query, env=NO_COLUMNS).stdout) > 80


def test_piped_output_keeps_cells_whole(run_cli):
    r = run_cli("query", "payer-matrix", env=NO_COLUMNS)
    assert r.returncode == 0, r.stderr
    assert widest(r.stdout) > 300  # all 18 columns side by side, nothing cut
    assert "…" not in r.stdout


def test_table_written_to_a_file_keeps_cells_whole(run_cli, tmp_path):
    out = tmp_path / "matrix.txt"
    r = run_cli("query", "payer-matrix", "-o", str(out), env={"COLUMNS": "100"})
    assert r.returncode == 0, r.stderr
    assert widest(out.read_text("utf-8")) > 300


@pytest.mark.parametrize("value", ["0", "-5", "abc", "2.5", "19"])
@pytest.mark.parametrize("command", [("query", "payers"), ("sparql", "ASK {}"), ("queries",)])
def test_max_width_rejects_nonsense(run_cli, value, command):
    r = run_cli(*command, f"--max-width={value}")
    assert r.returncode == 2
    assert "--max-width" in r.stderr
    assert "Traceback" not in r.stderr


def test_terminal_width_is_used_when_stdout_is_a_terminal(project_root):
    """In an 80-column terminal (no COLUMNS), the table fits 80 columns."""
    main, replica = pty.openpty()
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CPTKG_HOME")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cptkg", "query", "payers"],
        cwd=project_root,
        env=env,
        stdout=replica,
        stderr=subprocess.PIPE,
    )
    os.close(replica)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the terminal closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(main)
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert "kg:payer-medicare" in text
    assert widest(text) <= 80
