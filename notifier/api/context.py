"""Reach the process's Context from a request."""

from flask import current_app

from notifier.context import Context


def context() -> Context:
    ctx: Context = current_app.extensions["notifier"]
    return ctx
