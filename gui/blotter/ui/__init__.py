"""Everything Qt: the application, the main window, models, widgets and dialogs."""

from .qtcompat import install as _install_qt_workarounds

_install_qt_workarounds()
