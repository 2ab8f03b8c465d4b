"""The connections → accounts tree (object name ``accountsView``)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from ..models.accounts import AccountRole, AccountsModel, ConnectionRole

_WIDTHS = (168, 46, 84, 54, 62, 240)


class AccountsView(QTreeView):
    """``scopeChanged(connection, account)``: "" / "" means every account."""

    scopeChanged = Signal(str, str)

    def __init__(self, model: AccountsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountsView")
        self.setModel(model)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setIndentation(14)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for i, width in enumerate(_WIDTHS):
            header.resizeSection(i, width)
        model.rowsInserted.connect(lambda *_: self.expandAll())
        model.modelReset.connect(self.expandAll)
        self.selectionModel().selectionChanged.connect(self._selection_changed)

    def scope(self) -> tuple[str, str]:
        indexes = self.selectionModel().selectedRows()
        if not indexes:
            return "", ""
        index = indexes[0]
        return str(index.data(ConnectionRole) or ""), str(index.data(AccountRole) or "")

    def select_scope(self, connection: str, account: str = "") -> None:
        model = self.model()
        for row in range(model.rowCount()):
            conn_index = model.index(row, 0)
            if conn_index.data(ConnectionRole) != connection:
                continue
            target = conn_index
            if account:
                for child in range(model.rowCount(conn_index)):
                    index = model.index(child, 0, conn_index)
                    if index.data(AccountRole) == account:
                        target = index
            self.setCurrentIndex(target)
            return
        self.clear_scope()

    def clear_scope(self) -> None:
        self.selectionModel().clearSelection()
        self.scopeChanged.emit("", "")

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() == Qt.Key.Key_Escape:
            self.clear_scope()
            return
        super().keyPressEvent(event)

    def _selection_changed(self, *_args: object) -> None:
        self.scopeChanged.emit(*self.scope())
