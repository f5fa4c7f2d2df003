"""The minified widget: inside its byte budget, built from the readable source, reproducible."""

from __future__ import annotations

import gzip
from pathlib import Path

from click.testing import CliRunner

from callback import widget_build
from callback.cli import main


def test_the_widget_fits_its_budget_minified_and_gzipped():
    built = widget_build.build()
    source = widget_build.SOURCE.read_bytes()
    print(
        f"\nwidget.js: {len(source)} bytes source, {len(built.minified)} minified, "
        f"{len(built.gzipped)} minified+gzip (budget {widget_build.BUDGET_BYTES})"
    )
    assert len(built.gzipped) <= widget_build.BUDGET_BYTES
    assert gzip.decompress(built.gzipped) == built.minified


def test_minifying_drops_comments_and_whitespace_but_keeps_the_licence_line():
    source = "/*! Licence */\n/* a note */\nvar  a = 1; // why\nvar re = /[/*]+/g;\n"
    assert widget_build.minify(source) == b"/*! Licence */var a=1;var re=/[/*]+/g;\n"


def test_the_build_is_reproducible_and_versioned_by_its_bytes(tmp_path: Path):
    one, two = tmp_path / "one.js", tmp_path / "two.js"
    one.write_text("var a = 1;\n")
    two.write_text("var a = 2;\n")
    first, again, other = (widget_build.build(p) for p in (one, Path(str(one)), two))
    assert first.gzipped == again.gzipped  # no timestamp inside the gzip
    assert first.version != other.version
    assert len(first.version) == 12 and first.etag == first.version


def test_the_cli_writes_the_files_a_cdn_serves(tmp_path: Path):
    result = CliRunner().invoke(main, ["widget", "build", "--out", str(tmp_path / "dist")])
    assert result.exit_code == 0, result.output
    built = widget_build.build()
    assert (tmp_path / "dist/widget.min.js").read_bytes() == built.minified
    assert (tmp_path / "dist/widget.min.js.gz").read_bytes() == built.gzipped
    assert f"{len(built.gzipped)} gzipped" in result.output
