"""Connections → accounts tree with per-connection health and open-order counts per account.

Two levels. A connection row's internal id is 0; an account row's internal id is its connection's
row + 1, so ``parent()`` needs no Python objects behind the indexes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from ...core import Account, Venue
from ..theme import Colours, Tone

ConnectionRole = Qt.ItemDataRole.UserRole + 1  # the row's connection name
AccountRole = Qt.ItemDataRole.UserRole + 2  # the account id ("" on a connection row)

HEADERS = ("Connection / account", "Orders", "Health", "Latency", "Last OK", "Last error")
_NAME, _ORDERS, _HEALTH, _LATENCY, _LAST_OK, _ERROR = range(len(HEADERS))

_VENUE_NAMES = {Venue.AUTOSHARES: "AutoShares", Venue.SNAPTRADE: "SnapTrade", Venue.TANX: "tanX"}


def account_label(account: Account) -> str:
    """A short human name: the venue's name for the account, else a shortened id."""
    if account.name and account.name != account.account_id:
        return account.name
    ident = account.number or account.account_id
    return f"{ident[:6]}…{ident[-4:]}" if len(ident) > 14 else ident


def venue_name(venue: Venue | str) -> str:
    try:
        return _VENUE_NAMES[Venue(venue)]
    except ValueError:
        return str(venue)


@dataclass
class ConnectionNode:
    name: str
    venue: Venue
    state: str = "idle"  # idle | refreshing | connected | error
    last_success: datetime | None = None
    median_latency_ms: float | None = None
    last_error: str = ""
    read_only: bool = False
    retry_in_s: float = 0.0
    stale_as_of: str = ""  # its rows are as of this time (the last read failed); "" = live
    accounts: list[Account] = field(default_factory=list)


class AccountsModel(QAbstractItemModel):
    """Connections (top level) and their accounts; counts come from the orders model."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._connections: list[ConnectionNode] = []
        self._counts: Mapping[tuple[str, str], int] = {}

    # ------------------------------------------------------------------ Qt model API
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not 0 <= column < len(HEADERS) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0) if row < len(self._connections) else QModelIndex()
        if parent.internalId() != 0 or parent.column() != 0:
            return QModelIndex()
        conn_row = parent.row()
        if conn_row >= len(self._connections) or row >= len(self._connections[conn_row].accounts):
            return QModelIndex()
        return self.createIndex(row, column, conn_row + 1)

    def parent(self, child: QModelIndex | QPersistentModelIndex | None = None) -> Any:
        if child is None:
            return QObject.parent(self)
        if not child.isValid():
            return QModelIndex()
        ident = child.internalId()
        if ident == 0:
            return QModelIndex()
        return self.createIndex(ident - 1, 0, 0)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._connections)
        if parent.internalId() == 0 and parent.column() == 0 and parent.row() < len(self._connections):
            return len(self._connections[parent.row()].accounts)
        return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.internalId() != 0:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        ident = index.internalId()
        if ident == 0:
            if index.row() >= len(self._connections):
                return None
            return self._connection_data(self._connections[index.row()], index.column(), role)
        if ident - 1 >= len(self._connections):
            return None
        node = self._connections[ident - 1]
        if index.row() >= len(node.accounts):
            return None
        return self._account_data(node, node.accounts[index.row()], index.column(), role)

    def _connection_data(self, node: ConnectionNode, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == _NAME:
                return node.name
            if column == _ORDERS:
                return str(sum(n for (c, _a), n in self._counts.items() if c == node.name))
            if column == _HEALTH:
                return self._health_text(node)
            if column == _LATENCY:
                return "" if node.median_latency_ms is None else f"{node.median_latency_ms:.0f} ms"
            if column == _LAST_OK:
                return "" if node.last_success is None else node.last_success.astimezone().strftime("%H:%M:%S")
            if column == _ERROR:
                return node.last_error
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{node.name}: {venue_name(node.venue)} — {self._health_text(node)}"]
            if node.median_latency_ms is not None:
                lines.append(f"median latency {node.median_latency_ms:.0f} ms")
            if node.last_success is not None:
                lines.append(f"last success {node.last_success.astimezone():%Y-%m-%d %H:%M:%S}")
            if node.last_error:
                lines.append(f"last error: {node.last_error}")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.ForegroundRole and column in (_HEALTH, _ERROR):
            tone = {"connected": Tone.OK, "error": Tone.ERROR, "refreshing": Tone.CANCELLING}.get(node.state)
            if column == _ERROR:
                tone = Tone.ERROR
            return Colours.current().foreground[tone] if tone else None
        if role == Qt.ItemDataRole.FontRole and column == _NAME:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (_ORDERS, _LATENCY):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ConnectionRole:
            return node.name
        if role == AccountRole:
            return ""
        return None

    @staticmethod
    def _health_text(node: ConnectionNode) -> str:
        text = node.state
        if node.state == "error" and node.retry_in_s:
            text = f"error (retry in {node.retry_in_s:.0f} s)"
        if node.stale_as_of:
            text += f" — stale, as of {node.stale_as_of}"
        if node.read_only:
            text += ", read-only"
        elif node.accounts and all(a.read_only for a in node.accounts):
            text += ", read-only at the venue"
        return text

    def _account_data(self, node: ConnectionNode, account: Account, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == _NAME:
                return account_label(account)
            if column == _ORDERS:
                return str(self._counts.get((node.name, account.account_id), 0))
            if column == _HEALTH:
                return "read-only" if account.read_only else ""
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            bits = [f"{account.name} ({account.account_id})", f"connection {node.name} ({venue_name(node.venue)})"]
            if account.number:
                bits.append(f"number {account.number}")
            if account.currency:
                bits.append(account.currency)
            if account.read_only:
                bits.append("read-only at the venue: cancelling is disabled")
            return "\n".join(bits)
        if role == Qt.ItemDataRole.ForegroundRole and column == _HEALTH and account.read_only:
            return Colours.current().foreground[Tone.MUTED]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == _ORDERS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ConnectionRole:
            return node.name
        if role == AccountRole:
            return account.account_id
        return None

    # ------------------------------------------------------------------ our API
    def connection_names(self) -> list[str]:
        return [n.name for n in self._connections]

    def node(self, connection: str) -> ConnectionNode | None:
        return next((n for n in self._connections if n.name == connection), None)

    def accounts(self, connection: str) -> list[Account]:
        node = self.node(connection)
        return list(node.accounts) if node else []

    def account(self, connection: str, account_id: str) -> Account | None:
        return next((a for a in self.accounts(connection) if a.account_id == account_id), None)

    def set_connections(self, connections: Iterable[tuple[str, Venue]]) -> None:
        self.beginResetModel()
        self._connections = [ConnectionNode(name, venue) for name, venue in sorted(connections)]
        self.endResetModel()

    def add_connection(self, name: str, venue: Venue, *, read_only: bool = False) -> None:
        """A connection added at run time (kept in name order)."""
        if self._row(name) >= 0:
            self.set_read_only(name, read_only)
            return
        # A reset, not an insert: account rows' internal ids are their connection's row + 1, so
        # persistent indexes below a moved connection could not follow an insert (the view re-selects).
        self.beginResetModel()
        self._connections.append(ConnectionNode(name, venue, read_only=read_only))
        self._connections.sort(key=lambda n: n.name)
        self.endResetModel()

    def remove_connection(self, name: str) -> None:
        row = self._row(name)
        if row < 0:
            return
        self.beginResetModel()  # see add_connection
        del self._connections[row]
        self.endResetModel()

    def set_read_only(self, connection: str, read_only: bool) -> None:
        """The connection is read-only (its own setting or the whole app): shown beside its health."""
        row = self._row(connection)
        if row < 0 or self._connections[row].read_only == read_only:
            return
        self._connections[row].read_only = read_only
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1), [])

    def set_accounts(self, connection: str, accounts: Iterable[Account]) -> None:
        conn_row = self._row(connection)
        if conn_row < 0:
            return
        node = self._connections[conn_row]
        new = sorted(accounts, key=lambda a: (a.name.casefold(), a.account_id))
        if [a.account_id for a in new] == [a.account_id for a in node.accounts]:
            if new != node.accounts:
                node.accounts = new
                self._emit_children_changed(conn_row)
            return
        parent = self.index(conn_row, 0)
        if node.accounts:
            self.beginRemoveRows(parent, 0, len(node.accounts) - 1)
            node.accounts = []
            self.endRemoveRows()
        if new:
            self.beginInsertRows(parent, 0, len(new) - 1)
            node.accounts = new
            self.endInsertRows()

    def set_health(
        self, connection: str, *, state: str, last_success: datetime | None, median_latency_ms: float | None,
        last_error: str, retry_in_s: float = 0.0, stale_as_of: str = "",
    ) -> None:
        conn_row = self._row(connection)
        if conn_row < 0:
            return
        node = self._connections[conn_row]
        new = (state, last_success, median_latency_ms, last_error, retry_in_s, stale_as_of)
        if new == (node.state, node.last_success, node.median_latency_ms, node.last_error, node.retry_in_s,
                   node.stale_as_of):
            return
        (node.state, node.last_success, node.median_latency_ms, node.last_error, node.retry_in_s,
         node.stale_as_of) = new
        self.dataChanged.emit(self.index(conn_row, 0), self.index(conn_row, len(HEADERS) - 1), [])

    def set_counts(self, counts: Mapping[tuple[str, str], int]) -> None:
        self._counts = dict(counts)
        for conn_row in range(len(self._connections)):
            self.dataChanged.emit(self.index(conn_row, _ORDERS), self.index(conn_row, _ORDERS), [])
            self._emit_children_changed(conn_row, _ORDERS, _ORDERS)

    def _emit_children_changed(self, conn_row: int, first: int = 0, last: int = len(HEADERS) - 1) -> None:
        parent = self.index(conn_row, 0)
        n = self.rowCount(parent)
        if n:
            self.dataChanged.emit(self.index(0, first, parent), self.index(n - 1, last, parent), [])

    def _row(self, connection: str) -> int:
        return next((i for i, n in enumerate(self._connections) if n.name == connection), -1)
