"""Qt item models over service state: orders (+ its sorting/filtering proxy), accounts, status pane."""
