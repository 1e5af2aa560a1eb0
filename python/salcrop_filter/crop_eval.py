"""``python -m salcrop_filter.crop_eval``: Score the crop paths against real fixations and baselines. The code lives in :mod:`salcrop_filter.evaluation.crop`."""

import sys

from .evaluation.crop import main

if __name__ == "__main__":
    sys.exit(main())
