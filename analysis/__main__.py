"""`python -m analysis`: one entry point, one module per subcommand.

Each command module exposes `add_arguments(parser)` and `run(args) -> int`. Modules are imported
only when their command runs, so `--help` and light commands stay fast (no torch import).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from analysis.errors import UserError

COMMANDS = {
    "demo": ("analysis.demo", "build the synthetic demo database"),
    "ingest": ("analysis.ingest", "import a directory of CSV/Parquet files (SPEC section 1)"),
    "refresh": ("analysis.pipeline", "recompute derived tables (breaches, sentiment, ...)"),
    "audit": ("analysis.compliance.cli", "write every contact-rule breach to CSV"),
    "scorecard": ("analysis.scorecard", "write a month's scorecard metrics (CSV or PDF)"),
    "sentiment": ("analysis.sentiment.cli", "score the sentiment of a CSV text column"),
    "sentiment-train": ("analysis.sentiment.train", "fine-tune the sentiment model on a firm's labelled texts"),
    "plan": ("analysis.plan.cli", "write the contact plan for a date: accounts ranked, with each channel's contact window"),
    "import-cfpb": ("analysis.cfpb", "import a CFPB Consumer Complaint Database export"),
    "users": ("analysis.users", "manage dashboard users (hashed passwords)"),
    "verify-logs": ("analysis.verifylogs", "check that the access log, the review log and the label log are whole (hash chains)"),
    "export": ("analysis.export", "write the contract's tables to Parquet files (the layout --input reads)"),
    "data-dictionary": ("analysis.datadict", "print the data dictionary of the import contract"),
    "propensity": ("analysis.propensity", "train the propensity-to-pay model, or score open accounts with it"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, non-zero, no usage dump
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m analysis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            try:
                modules[name] = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and exc.name.startswith("analysis"):
                    print(f"python -m analysis {name}: not available in this build", file=sys.stderr)
                    return 2
                raise
            modules[name].add_arguments(p)
    args = parser.parse_args(argv)
    try:
        return int(modules[args.command].run(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
