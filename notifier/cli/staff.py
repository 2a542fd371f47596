"""Staff accounts of the console: ``notifier staff create|reset-link``."""

from __future__ import annotations

import click

from notifier.cli.common import command_context


@click.group()
def staff() -> None:
    """Staff accounts of the console."""


@staff.command("create")
@click.argument("email")
@click.option("--name", required=True, help="the person's name, as the console shows it")
@click.option(
    "--center", "centers", multiple=True, help="a centre code (repeat for staff of several centres)"
)
@click.option(
    "--role", type=click.Choice(["staff", "manager", "ministry"]), default="staff", show_default=True
)
def staff_create(email: str, name: str, centers: tuple[str, ...], role: str) -> None:
    """Create an account and print its one-time link to choose a password."""
    from notifier.staff import signin
    from notifier.staff.accounts import AccountRefused

    with command_context() as ctx:
        try:
            account = signin.create_account(ctx, email, name, role, list(centers))
        except AccountRefused as exc:
            raise click.ClickException(str(exc)) from exc
        link = signin.issue_reset_link(ctx, account.email)
    click.echo(f"created {account.role.value} account {account.email}")
    click.echo(
        f"open this link within {_hours(signin.RESET_LINK_VALID.total_seconds())} to choose a password:"
    )
    click.echo(link)


@staff.command("reset-link")
@click.argument("email")
def staff_reset_link(email: str) -> None:
    """Print a one-time link that sets the account's password (it ends the account's sessions)."""
    from notifier.staff import signin

    with command_context() as ctx:
        try:
            link = signin.issue_reset_link(ctx, email)
        except signin.ResetRefused as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(
        f"open this link within {_hours(signin.RESET_LINK_VALID.total_seconds())} to choose a password:"
    )
    click.echo(link)


def _hours(seconds: float) -> str:
    return f"{int(seconds // 3600)} hours"
