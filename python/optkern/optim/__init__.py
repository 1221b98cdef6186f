"""optkern.optim: optimizers with torch.optim's names, arguments and numbers."""

from optkern.optim.adam import Adam, AdamW
from optkern.optim.optimizer import Optimizer
from optkern.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]
