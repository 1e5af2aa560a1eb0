"""``python -m salcrop_filter.train``: Train the saliency network (and fine-tune it on a user's own gaze data). The code lives in :mod:`salcrop_filter.training.train`."""

import sys

from .training.train import main

if __name__ == "__main__":
    sys.exit(main())
