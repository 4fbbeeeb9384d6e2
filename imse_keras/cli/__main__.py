"""``python -m imse_keras.cli``: the ``imse`` command line."""

from imse_keras.cli import main

if __name__ == "__main__":  # pragma: no cover
    main(prog_name="imse")
