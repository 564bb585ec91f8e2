"""Open Occlusion Studio (for now: render the demo contact sheet and print its path)."""

import sys

from studio.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
