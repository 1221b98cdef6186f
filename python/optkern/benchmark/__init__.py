"""optkern's benchmark core: what `optkern bench` and bench/'s reports and
pytest-benchmark suites measure with."""
