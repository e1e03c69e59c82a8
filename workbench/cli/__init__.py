"""Command line: ``python main.py COMMAND`` (installed as ``workbench``); no command opens the GUI.

Every command drives the same core the GUI uses. Errors reach stderr as one sentence with a
non-zero exit code; ``--debug`` adds the traceback for bug reports. One module per command
group; each adds its own sub-parser.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from workbench.cli import (archs_cmd, calibrate_cmd, data_cmds, embed_cmd, explain_cmd, export_cmd, gui_cmds,
                           lr_find_cmd, model_cmds, queue_cmd, runs_cmd, sweep_cmd, train_cmd)
from workbench.cli.common import EXIT_FAILED, EXIT_USAGE, CliError

__all__ = ["main", "build_parser", "CliError", "EXIT_FAILED", "EXIT_USAGE"]


class _HelpWithDefaults(argparse.HelpFormatter):
    """Shows an option's default after its help, except for flags and options without one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    from workbench import __version__

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="CIFAR experiment workbench. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="print tracebacks for unexpected errors, and TensorFlow's start-up lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (gui_cmds, data_cmds, archs_cmd, train_cmd, lr_find_cmd, model_cmds, explain_cmd, embed_cmd,
                   calibrate_cmd, export_cmd, runs_cmd, queue_cmd, sweep_cmd):
        module.add_parsers(sub)
    for command in sub.choices.values():
        # Every option's help shows its default.
        command.formatter_class = _HelpWithDefaults
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [CliError, ValueError, OSError]
    for module, name in (
        ("workbench.core.datasets", "DatasetError"),
        ("workbench.core.modelio.loaded_model", "ModelLoadError"),
        ("workbench.core.images.errors", "ImageReadError"),
    ):
        try:
            errors.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def _sentence(exc: BaseException) -> str:
    """The error as one sentence; an OSError's raw "[Errno 13] Permission denied: '/x'" is reworded."""
    if isinstance(exc, OSError) and exc.strerror and str(exc).startswith("[Errno"):
        from workbench.paths import os_error_sentence

        return os_error_sentence(exc)
    return str(exc)


def _text_streams() -> None:
    """A file name's non-UTF-8 bytes reach the terminal escaped, never raw, even where a print forgot printable()."""
    from workbench.core.text import PRINTABLE_ERRORS

    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=PRINTABLE_ERRORS)


def main(argv: Sequence[str] | None = None) -> int:
    _text_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = gui_cmds.cmd_gui
    if args.debug:
        from workbench.core.tf_import import DEBUG_ENV

        os.environ[DEBUG_ENV] = "1"  # TensorFlow's start-up lines stay on the terminal, training processes' too
    if args.command not in (None, "gui", "screenshots"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter off the terminal
    try:
        return args.func(args)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", None)  # a sweep's StopSignal: SIGTERM or SIGHUP, taken like Ctrl+C
        print(f"stopped by {exc.name}" if signum else "interrupted", file=sys.stderr)
        return 128 + signum if signum else 130
    except _known_errors() as exc:
        if args.debug:
            raise
        hint = getattr(exc, "cli_hint", "")  # e.g. DatasetNotFound: how to fetch it, in CLI terms
        print(f"error: {_sentence(exc)}{' ' + hint if hint else ''}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, CliError) else EXIT_FAILED
    except Exception as exc:  # a bug: still one sentence, the traceback only on request
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
