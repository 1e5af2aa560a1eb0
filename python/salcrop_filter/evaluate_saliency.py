"""``python -m salcrop_filter.evaluate_saliency``: Score a saliency model against real fixations. The code lives in :mod:`salcrop_filter.evaluation.saliency`."""

import sys

from .evaluation.saliency import main

if __name__ == "__main__":
    sys.exit(main())
