"""The ``mmtlite`` command. Only the shell for now: its commands land with their own issue."""

from __future__ import annotations

import click

import nem2cdr
from cli.errors import run_guarded


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(nem2cdr.__version__, prog_name="mmtlite")
@click.option("--home", type=click.Path(file_okay=False), help="Folder that holds the databases.")
@click.option(
    "--env",
    type=click.Choice(["build", "sogl", "prod"]),
    default="build",
    show_default=True,
    help="Environment (one database each).",
)
def cli(home: str | None, env: str) -> None:
    """mmtlite: a SQLite meter migration tool (loading lists, rules, tranches, outbound files).

    Its commands are not built yet; see the project's issues.
    """


def main() -> None:
    run_guarded(cli, "mmtlite")
