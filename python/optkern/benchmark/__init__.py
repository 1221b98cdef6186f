"""optkern's benchmark core: what `optkern bench` and bench/'s reports and
pytest-benchmark suites measure with.

    timing       interleaved rounds, medians, paired ratios, the machine line
    peers        the libraries measured against, and whether each can run here
    optimizers   the optimizer workloads and every implementation's step
    losses       the loss cases and every implementation's call
    command      `optkern bench` (report: its table, JSON and plot)
"""
