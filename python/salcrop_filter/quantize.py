"""``python -m salcrop_filter.quantize``: Write the 8-bit CPU model from the float one. The code lives in :mod:`salcrop_filter.training.quantize`."""

import sys

from .training.quantize import main

if __name__ == "__main__":
    sys.exit(main())
