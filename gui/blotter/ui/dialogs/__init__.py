"""Dialogs. All are opened non-modally (``show()``/``open()``) and answer through signals."""
