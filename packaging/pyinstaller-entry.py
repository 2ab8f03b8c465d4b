"""PyInstaller's entry script: the bundled ``blotter`` executable is the ``blotter`` console script."""

import sys

from blotter.cli import main

if __name__ == "__main__":
    sys.exit(main())
