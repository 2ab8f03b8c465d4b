"""Everything Qt: the application, the main window, models, widgets and dialogs."""
