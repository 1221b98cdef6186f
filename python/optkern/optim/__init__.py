"""optkern.optim: optimizers with torch.optim's names, arguments and numbers.

Every module of this package but the private ones holds optimizers: each
class (registered by Optimizer) and its functional form are exported here,
in optkern, and (the functional forms) in optkern.functional.
"""

import importlib
import pkgutil

from optkern.optim.optimizer import Optimizer

_FUNCTIONAL = {}

for _module_info in pkgutil.iter_modules(__path__):
    if _module_info.name.startswith("_") or _module_info.name == "optimizer":
        continue
    _module = importlib.import_module(f"{__name__}.{_module_info.name}")
    for _name in _module.__all__:
        _value = getattr(_module, _name)
        globals()[_name] = _value
        if _name.endswith("_"):
            _FUNCTIONAL[_name] = _value

__all__ = ["Optimizer", *Optimizer.registry()]


def functional_forms():
    """{name: function} of every optimizer's functional form (sgd_, adam_, ...)."""
    return dict(_FUNCTIONAL)
