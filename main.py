"""Open Occlusion Studio (`make run`). See `python main.py --help`."""

import sys

from studio.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
