"""The ``salcrop`` command's subcommands, in the style of ``git`` and ``scenedetect``: ``salcrop NAME ARGS``.

Reframing is the default (``salcrop IN -o OUT`` is ``salcrop reframe IN -o OUT``). Each entry names the module
whose ``main(argv)`` runs it; that module is imported only when its command runs, so ``salcrop --help`` and
reframing never load PyTorch or the review server. The ``python -m salcrop_filter.X`` entry points stay as aliases
of the same ``main``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass

__all__ = ["Subcommand", "SUBCOMMANDS", "parser", "run", "summary"]


@dataclass(frozen=True)
class Subcommand:
    module: str  # relative to salcrop_filter
    summary: str
    extra: str = ""  # the pip extra its imports need, named when they are missing


SUBCOMMANDS: dict[str, Subcommand] = {
    "reframe": Subcommand(".cli", "reframe videos to other aspect ratios (the default: salcrop IN -o OUT)"),
    "review": Subcommand(".review.command", "review and correct the crop path in a browser", "review"),
    "train": Subcommand(".training.train", "train the saliency network, or fine-tune it on your gaze data", "train"),
    "eval": Subcommand(".evaluation.saliency", "score a saliency model against real fixations (held-out images)",
                       "train"),
    "crop-eval": Subcommand(".evaluation.crop", "score the crop paths against real fixations and baselines", "train"),
    "export": Subcommand(".export", "export a trained checkpoint to ONNX (the model contract)", "train"),
    "quantize": Subcommand(".training.quantize", "write the 8-bit CPU model from the float one", "train"),
    "split": Subcommand(".split", "split a model into the encoder and head the core batches on CUDA"),
}


def summary() -> str:
    """The commands as the main --help lists them."""
    width = max(map(len, SUBCOMMANDS))
    return "\n".join(f"  {name:<{width}}  {c.summary}" for name, c in SUBCOMMANDS.items())


def parser(name: str, description: str, example: str, *, alias: str = "") -> argparse.ArgumentParser:
    """The argument parser of ``salcrop NAME``: every subcommand's help ends with one example (``example``: a line
    saying what it does, then the command) and, where there is one, the ``python -m`` alias of the same ``main``."""
    epilog = example + (f"\nalias: python -m salcrop_filter.{alias}" if alias else "")
    return argparse.ArgumentParser(prog=f"salcrop {name}", description=description,
                                   formatter_class=argparse.RawDescriptionHelpFormatter, epilog=epilog)


def run(name: str, argv: list[str]) -> int:
    """Runs subcommand ``name`` (not "reframe", which cli.main runs itself) with ``argv``; its exit status."""
    command = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(command.module, __package__)
    except ImportError as e:
        hint = f": pip install 'salcrop_filter[{command.extra}]'" if command.extra else ""
        print(f"salcrop {name}: error: {e.name or e} is not installed{hint}", file=sys.stderr)
        return 1
    return int(module.main(argv) or 0)
