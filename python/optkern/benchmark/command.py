"""optkern bench (being written)."""

DESCRIPTION = "Time optkern's kernels against the installed peers."
EPILOG = ""


def add_arguments(parser):
    pass


def run(args):
    from optkern.cli import UsageError

    raise UsageError("optkern bench is not written yet")
