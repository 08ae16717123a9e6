"""Run the command line interface: ``python -m cptkg ...``."""

from cptkg.cli import run

if __name__ == "__main__":
    run()
