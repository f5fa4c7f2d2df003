"""CSV cells: visitor text that a spreadsheet would run is defused; our own ids are not."""

import csv
import io
from datetime import UTC, datetime

from callback.services.reporting.export import Verbatim, callbacks_csv, cell
from callback.services.reporting.stats import PeriodCallback


def test_visitor_text_that_looks_like_a_formula_gets_an_apostrophe():
    assert [cell(t) for t in ("=1+1", "+372", "-2", "@SUM(A1)", "\tx", "plain")] == [
        "'=1+1",
        "'+372",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
    ]


def test_an_id_that_starts_with_a_dash_is_written_unchanged():
    assert cell(Verbatim("-RgvwARzU1H5iNdw8A6DXQ")) == "-RgvwARzU1H5iNdw8A6DXQ"
    row = PeriodCallback(
        id="-RgvwARzU1H5iNdw8A6DXQ",
        created_at=datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
        status="completed",
        reason=None,
        widget="Shop",
        agent_id=None,
        agent=None,
        phone="+37251230006",
        page_title="-50% today",
        page_url=None,
        connected_at=None,
        ended_at=None,
        duration_s=None,
        time_to_connect_s=None,
        clock_started_at=datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
    )
    [parsed] = csv.DictReader(io.StringIO(callbacks_csv([row])))
    assert parsed["id"] == "-RgvwARzU1H5iNdw8A6DXQ"
    assert parsed["page_title"] == "'-50% today"
