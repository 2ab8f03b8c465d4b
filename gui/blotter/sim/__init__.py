"""Faithful simulators of AutoShares (ETNA), SnapTrade and tanX, served on loopback."""
