"""Read-only reports for the admin: the live board, history and timelines, statistics, CSV.

Every function takes a Session (the caller owns the transaction, see `services.context`) and
a `Viewer` that says whose callbacks the reader may see. Query parameters are parsed and
checked in `filters`; everything else trusts its arguments.
"""

from .board import PROMISE_S, Board, board
from .export import agents_csv, callbacks_csv
from .filters import Period, ReportError, Viewer, parse_history, parse_period
from .history import CallbackDetail, HistoryPage, detail, search
from .stats import Statistics, period_callbacks, statistics

__all__ = [
    "PROMISE_S",
    "Board",
    "CallbackDetail",
    "HistoryPage",
    "Period",
    "ReportError",
    "Statistics",
    "Viewer",
    "agents_csv",
    "board",
    "callbacks_csv",
    "detail",
    "parse_history",
    "parse_period",
    "period_callbacks",
    "search",
    "statistics",
]
