"""``python -m nabla show ...``: see ``nabla.show``."""

import sys

from .show import main

if __name__ == "__main__":
    sys.exit(main())
