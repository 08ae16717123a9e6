"""Run the command line interface: ``python -m cptkg ...``."""

import sys

from cptkg.cli import main

if __name__ == "__main__":
    sys.exit(main())
