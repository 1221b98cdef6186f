"""Argument checks shared by the optimizers and the losses, with torch's messages.

torch checks optimizer hyperparameters at construction only; optkern also
checks at every step (a changed param_groups entry is checked before
anything is written), and also rejects NaN where torch's comparison lets it
through (SGD's lr). These run at every step, so the common case (plain
floats and ints) is kept cheap and messages are only formatted on failure.
"""

import numbers

__all__ = ["real", "require", "betas_of"]


def real(value, name):
    """value as a float; TypeError when it is not a real number (booleans,
    numpy's included, and complex numbers are not)."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:  # 0-d arrays and other numeric scalars, but booleans and complex numbers
            if getattr(value, "ndim", 0) == 0 and not isinstance(value, (str, bytes, bool, complex)) \
                    and getattr(getattr(value, "dtype", None), "kind", "") not in ("b", "c"):
                return float(value)
        except (TypeError, ValueError):
            pass
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def require(condition, message, value):
    """ValueError(message with value) unless condition (written so that NaN fails)."""
    if not condition:
        raise ValueError(message.format(value))


def betas_of(values, count):
    """An optimizer's betas as `count` floats: ValueError unless a sequence
    of that many, TypeError for one that is not a real number."""
    try:
        items = tuple(values)
    except TypeError:
        items = ()
    if len(items) != count:
        names = ", ".join(f"beta{k + 1}" for k in range(count))
        raise ValueError(f"betas must be {count} numbers ({names}), got {values!r}")
    return [real(b, f"betas[{k}]") for k, b in enumerate(items)]
