"""The UNISAL architecture (Droste, Jiao & Noble, "Unified Image and Video Saliency Modeling", ECCV 2020).

Vendored from https://github.com/rdroste/unisal as shipped in the PyPI package pyautoflip 0.2.1, under the
Apache License 2.0 (LICENSE beside this file). Only the network definition is kept; salcrop uses it as a frozen
teacher whose maps are distillation targets (``salcrop_filter.training.teacher``).
"""

from .model import UNISAL

__all__ = ["UNISAL"]
