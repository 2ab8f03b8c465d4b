"""Blotter: a desktop order manager for traders at several venues."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("blotter")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
