"""salcrop_filter: saliency-driven video reframing (the Python front end of the salcrop core).

>>> import salcrop_filter
>>> path = salcrop_filter.reframe("in.mp4", "out.mp4", ratio="9:16")

Heavy parts load on first use: ``import salcrop_filter`` needs neither PyAV nor the compiled core nor
torch, so the training tools and ``CropPath`` work on their own.
"""

from __future__ import annotations

import importlib
from typing import Any

from .croppath import CropPath, CropPathError

__all__ = [
    "CropPath", "CropPathError", "reframe", "Reframer", "ReframeError", "OptionError", "scenes",
    "plot_path", "export_onnx", "SaliencyModel", "reframe_many", "__version__",
]

# name -> module that defines it (PEP 562 lazy attributes)
_LAZY = {
    "reframe": ".pipeline", "Reframer": ".pipeline", "ReframeError": ".pipeline", "OptionError": ".pipeline",
    "reframe_many": ".cluster",  # Ray is imported on first use, never by `import salcrop_filter`
    "scenes": ".scenes", "plot_path": ".plot", "export_onnx": ".export", "SaliencyModel": ".saliency",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("salcrop_filter")
        except PackageNotFoundError:
            return "0+unknown"
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'salcrop_filter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
