import pytest

import optkern

ISAS = optkern._core.available_isas()


@pytest.fixture(params=ISAS)
def isa(request):
    """Run the test once per instruction set this CPU has."""
    before = optkern.get_isa()
    optkern.set_isa(request.param)
    yield request.param
    optkern.set_isa(before)


@pytest.fixture
def num_threads():
    """optkern.set_num_threads, with the default restored afterwards. The
    contention backoff is off meanwhile, so that a pass asked to run on two
    threads does, however busy the machine (see helpers.threaded)."""
    optkern._core.set_threads_backoff(False)
    yield optkern.set_num_threads
    optkern.set_num_threads(None)
    optkern._core.set_threads_backoff(True)
