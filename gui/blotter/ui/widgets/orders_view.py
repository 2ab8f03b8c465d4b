"""The orders table: sortable, column chooser on the header, layout saved in the settings."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from ...core import OrderKey
from ..models.columns import COLUMNS
from ..models.orders_proxy import DEFAULT_SORT_COLUMN, DEFAULT_SORT_ORDER, OrdersProxyModel
from ..settings import UiSettings

_STATE_NAME = "orders_header"
_LAYOUT_VERSION = 1


class OrdersView(QTableView):
    """``deleteRequested``: the Delete key; ``detailRequested``: Enter or double-click on a row."""

    deleteRequested = Signal()
    detailRequested = Signal(QModelIndex)

    def __init__(self, settings: UiSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ordersView")
        self._settings = settings
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        # Tab leaves the grid (to the next pane) instead of walking cells and wrapping the selection: a
        # Tab then Delete must never cancel another order than the one the trader was looking at
        self.setTabKeyNavigation(False)
        vheader = self.verticalHeader()
        vheader.setVisible(False)
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.doubleClicked.connect(self.detailRequested.emit)
        self.column_actions: dict[str, QAction] = {}

    def setModel(self, model: object) -> None:
        super().setModel(model)  # type: ignore[arg-type]
        self.setSortingEnabled(True)
        self.proxy.rowsRemoved.connect(self._after_rows_left)
        self.proxy.modelReset.connect(self._after_rows_left)
        if not self.restore_layout():
            self.apply_default_layout()

    @property
    def proxy(self) -> OrdersProxyModel:
        model = self.model()
        assert isinstance(model, OrdersProxyModel)
        return model

    # ------------------------------------------------------------------ selection
    def selected_keys(self) -> list[OrderKey]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()}) if self.selectionModel() else []
        return [self.proxy.key_at(r) for r in rows]

    def _after_rows_left(self, *_args: object) -> None:
        """Rows left (a cancelled order, a refresh): with nothing selected, nothing stays current either, so no
        action can pick up a row the trader never chose (Qt would make a neighbour current)."""
        selection = self.selectionModel()
        if selection is not None and not selection.hasSelection() and self.currentIndex().isValid():
            selection.clearCurrentIndex()

    def current_key(self) -> OrderKey | None:
        index = self.currentIndex()
        return self.proxy.key_at(index.row()) if index.isValid() else None

    def select_keys(self, keys: list[OrderKey]) -> None:
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        last = len(COLUMNS) - 1
        first_index = None
        for key in keys:
            row = self.proxy.row_of(key)
            if row >= 0:
                selection.select(self.proxy.index(row, 0), self.proxy.index(row, last))
                if first_index is None:
                    first_index = self.proxy.index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.selectionModel().select(selection, flags)
        if first_index is not None:
            self.selectionModel().setCurrentIndex(first_index, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.scrollTo(first_index)

    # ------------------------------------------------------------------ keys
    def event(self, event: QEvent) -> bool:
        # Take Delete before any window shortcut does, so a Delete here is a "hotkey" cancel
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if event.modifiers() == Qt.KeyboardModifier.NoModifier:
            if key == Qt.Key.Key_Delete:
                event.accept()
                self.deleteRequested.emit()
                return
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                event.accept()
                index = self.currentIndex()
                if index.isValid():
                    self.detailRequested.emit(index)
                return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ layout
    def apply_default_layout(self) -> None:
        header = self.horizontalHeader()
        for logical in range(len(COLUMNS)):
            visual = header.visualIndex(logical)
            if visual != logical:
                header.moveSection(visual, logical)
        for logical, column in enumerate(COLUMNS):
            header.setSectionHidden(logical, not column.visible)
            if column.width:
                header.resizeSection(logical, column.width)
        header.setSortIndicator(DEFAULT_SORT_COLUMN, DEFAULT_SORT_ORDER)
        self.sortByColumn(DEFAULT_SORT_COLUMN, DEFAULT_SORT_ORDER)

    def restore_default_layout(self) -> None:
        self._settings.set_header_state(_STATE_NAME, None)
        self.apply_default_layout()
        self.save_layout()

    def save_layout(self) -> None:
        state = self.horizontalHeader().saveState()
        self._settings.q.setValue("layout/orders_header_version", _LAYOUT_VERSION)
        self._settings.set_header_state(_STATE_NAME, state)

    def restore_layout(self) -> bool:
        state = self._settings.header_state(_STATE_NAME)
        version = self._settings.q.value("layout/orders_header_version")
        if state is None or str(version) != str(_LAYOUT_VERSION):
            return False
        header = self.horizontalHeader()
        if not header.restoreState(state) or header.count() != len(COLUMNS):
            return False
        self.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        return True

    def _header_menu(self, pos: QPoint) -> None:
        menu = self.build_header_menu()
        menu.popup(self.horizontalHeader().mapToGlobal(pos))

    def build_header_menu(self) -> QMenu:
        """Column chooser + restore default layout (kept for tests)."""
        menu = QMenu(self)
        menu.setObjectName("columnChooser")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        header = self.horizontalHeader()
        self.column_actions = {}
        for logical, column in enumerate(COLUMNS):
            action = menu.addAction(column.header)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(logical))
            action.setObjectName(f"column_{column.id}")
            action.toggled.connect(lambda checked, c=logical: self.set_column_visible(c, checked))
            self.column_actions[column.id] = action
        menu.addSeparator()
        restore = menu.addAction("Restore default layout")
        restore.setObjectName("restoreDefaultLayout")
        restore.triggered.connect(self.restore_default_layout)
        return menu

    def set_column_visible(self, logical: int, visible: bool) -> None:
        header = self.horizontalHeader()
        if not visible and header.count() - header.hiddenSectionCount() <= 1:
            return  # keep at least one column
        header.setSectionHidden(logical, not visible)
        if visible and header.sectionSize(logical) < 30:
            header.resizeSection(logical, COLUMNS[logical].width or 90)
        self.save_layout()


