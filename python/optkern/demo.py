"""optkern demo (being written)."""

DESCRIPTION = "Train models with optkern's optimizers, losses and schedules."
EPILOG = ""


def add_arguments(parser):
    pass


def run(args):
    from optkern.cli import UsageError

    raise UsageError("optkern demo is not written yet")
