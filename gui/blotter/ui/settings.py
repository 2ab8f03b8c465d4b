"""The window's own settings (QSettings, INI file beside the connections config; no secrets here)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from ..store import paths

DEFAULT_REFRESH_S = 5.0
MIN_REFRESH_S = 1.0
MAX_REFRESH_S = 300.0
DEFAULT_TYPED_ABOVE = 20


class UiSettings:
    """Typed access to the window settings. ``BLOTTER_HOME`` relocates the file like everything else."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        if qsettings is None:
            directory = paths.ensure_private_dir(paths.config_dir())
            qsettings = QSettings(str(directory / "window.ini"), QSettings.Format.IniFormat)
        self.q = qsettings

    # -- behaviour
    @property
    def confirm_single_cancel(self) -> bool:
        return _bool(self.q.value("cancel/confirm_single", True))

    @confirm_single_cancel.setter
    def confirm_single_cancel(self, value: bool) -> None:
        self.q.setValue("cancel/confirm_single", bool(value))

    @property
    def typed_confirmation_above(self) -> int:
        """More orders than this (or more than one account) in one cancel need the typed confirmation."""
        try:
            value = int(str(self.q.value("cancel/typed_above", DEFAULT_TYPED_ABOVE)))
        except (TypeError, ValueError):
            return DEFAULT_TYPED_ABOVE
        return min(max(value, 1), 10_000)

    @typed_confirmation_above.setter
    def typed_confirmation_above(self, value: int) -> None:
        self.q.setValue("cancel/typed_above", min(max(int(value), 1), 10_000))

    @property
    def refresh_interval_s(self) -> float:
        try:
            value = float(self.q.value("refresh/interval_s", DEFAULT_REFRESH_S))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return DEFAULT_REFRESH_S
        return min(max(value, MIN_REFRESH_S), MAX_REFRESH_S)

    @refresh_interval_s.setter
    def refresh_interval_s(self, value: float) -> None:
        self.q.setValue("refresh/interval_s", min(max(float(value), MIN_REFRESH_S), MAX_REFRESH_S))

    @property
    def log_successful_reads(self) -> bool:
        return _bool(self.q.value("status/log_reads", False))

    @log_successful_reads.setter
    def log_successful_reads(self, value: bool) -> None:
        self.q.setValue("status/log_reads", bool(value))

    # -- layout
    def header_state(self, name: str) -> QByteArray | None:
        value = self.q.value(f"layout/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_header_state(self, name: str, state: QByteArray | None) -> None:
        if state is None:
            self.q.remove(f"layout/{name}")
        else:
            self.q.setValue(f"layout/{name}", state)

    def sync(self) -> None:
        self.q.sync()


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
