"""The composition root (no Qt): how Blotter is put together — logging, the demo venues — the same way for the
command line and the window. ``ui`` and ``cli`` import it; it imports only the layers below them.
"""
