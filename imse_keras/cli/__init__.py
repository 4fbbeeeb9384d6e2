"""The ``imse`` command line: thin wrappers over the library, one module per command.

One vocabulary for every subcommand (:mod:`imse_keras.cli.options`):
``-o/--output`` for what a command writes (a file when the value has an
extension, else a folder), ``--model`` for a .tflite, ``--weights`` for
Keras/PyTorch weights, ``--preset``, ``--threads``. Old spellings still work
for one release and print one deprecation line to stderr.

Exit codes: 0 success, 1 a reported error (bad input, missing weights, ...),
2 a usage error (unknown option, missing argument). Heavy imports (TensorFlow)
happen inside the commands, so ``imse --help`` is instant.
"""

from __future__ import annotations

import click

from imse_keras import __version__
from imse_keras.cli import compare, demo, enhance, evaluate, export, info, report, train

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="imse")
def main():
    """IMSE speech enhancement (Keras 3): enhance, evaluate, export and inspect."""


for _command in (enhance.enhance, evaluate.evaluate, info.info, demo.demo, compare.compare,
                 report.report, train.train, train.make_demo_data, export.export,
                 export.validate):
    main.add_command(_command)
del _command
