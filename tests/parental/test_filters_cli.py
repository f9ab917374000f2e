"""`parental filters import | publish | check` on this test's database."""

from __future__ import annotations

from pathlib import Path

from tests.parental.test_cli import cli_env, invoke

__all__ = ["cli_env"]  # the fixture, used by name below

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "blocklists"


def test_import_publish_check(cli_env: str, tmp_path: Path) -> None:
    hosts = tmp_path / "drugs.hosts"
    hosts.write_text("# drugs\n0.0.0.0 weed.test\n0.0.0.0 weed.test\n0.0.0.0 bad..name\n")
    imported = invoke("filters", "import", str(hosts), "--source", "drugs", "--category", "drugs")
    assert imported.exit_code == 0, imported.output
    assert (
        "hosts: 4 lines, 1 accepted, 1 duplicates, 1 comments/blank, 1 rejected" in imported.output
    )
    assert "line 4:" in imported.output
    assert "drugs: 1 added, 0 removed, 0 unchanged" in imported.output

    before = invoke("filters", "check", "weed.test")
    assert before.exit_code == 1
    assert "NoPublishedVersion" in before.output

    published = invoke("filters", "publish", "--note", "first")
    assert published.exit_code == 0, published.output
    assert "version 1: 1 rules on 1 names" in published.output
    checked = invoke("filters", "check", "weed.test", "https://www.weed.test/", "ok.test")
    assert checked.exit_code == 0, checked.output
    lines = checked.output.strip().splitlines()[-3:]
    assert lines[0].startswith("block weed.test")
    assert "[drugs] drugs v1" in lines[0]
    assert lines[1].startswith("allow www.weed.test/")  # hosts files list exact names
    assert lines[2].startswith("allow ok.test")


def test_a_ut1_folder_and_a_new_source_without_category(cli_env: str) -> None:
    missing = invoke("filters", "import", str(SHARED / "ut1" / "gambling"), "--source", "g")
    assert missing.exit_code != 0
    assert "--category" in missing.output
    ok = invoke(
        "filters",
        "import",
        str(SHARED / "ut1" / "gambling"),
        "--source",
        "g",
        "--category",
        "gambling",
    )
    assert ok.exit_code == 0, ok.output
    assert "g: 32252 added" in ok.output
