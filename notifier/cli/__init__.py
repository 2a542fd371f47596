"""The ``notifier`` command: one module per group of subcommands."""

from __future__ import annotations

import click

from notifier.cli.admin import centers, db, keys
from notifier.cli.campaigns import campaign
from notifier.cli.experiments import experiment
from notifier.cli.processes import api, dev, scheduler, worker
from notifier.cli.staff import staff
from notifier.cli.templates import templates


@click.group()
def main() -> None:
    """Appointment reminders and programme announcements for Korean employment centres."""


main.add_command(db)
main.add_command(keys)
main.add_command(centers)
main.add_command(api)
main.add_command(worker)
main.add_command(scheduler)
main.add_command(dev)
main.add_command(templates)
main.add_command(campaign)
main.add_command(experiment)
main.add_command(staff)
