"""Input checks shared by every exercise module.

Nothing here is part of an exercise: the build copies this file into `exercises/`
unchanged, so a student's skeleton rejects bad input exactly like the reference does.

A shape is written as a string of dimension names, e.g. ``"N T D"`` or ``"D 4H"``.
A name is bound by the first array that uses it (in argument order) and every later
use must agree; ``4H`` means "four times H". Errors are ``ValueError`` and always name
the argument, the shape it has and the shape it needs.
"""
import functools
import numbers

import numpy as np

__all__ = ["check_arrays", "check_lengths", "check_mask", "check_int", "check_float", "as_float_array"]


def as_float_array(name, value):
    """Return `value` as a float64 ndarray, or raise ValueError if it is not numeric."""
    if type(value) is np.ndarray and value.dtype == np.float64:
        return value
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and other oddities
        raise ValueError(f"{name} must be an array of numbers; it could not be read as one ({exc})") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must be an array of numbers (float64); got an array of dtype {array.dtype}"
        )
    return array.astype(np.float64, copy=False)


@functools.lru_cache(maxsize=None)
def _parse(spec):
    dims = []
    for token in spec.split():
        factor = token.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        letter = token[len(factor):]
        dims.append((int(factor) if factor else 1, letter))
    return tuple(dims)


def _spell(dims):
    inner = ", ".join(f"{k}{letter}" if k != 1 else letter for k, letter in dims)
    return f"({inner},)" if len(dims) == 1 else f"({inner})"


def check_arrays(**specs):
    """Check named arrays against shape specs; return them as float64 arrays, in order.

    Example::

        x_t, h_prev = check_arrays(x_t=(x_t, "N D"), h_prev=(h_prev, "N H"))
    """
    bound = {}   # letter -> (size, name of the argument that set it)
    out = []
    for name, (value, spec) in specs.items():
        array = as_float_array(name, value)
        dims = _parse(spec)
        if array.ndim != len(dims):
            raise ValueError(
                f"{name} must be {len(dims)}-D with shape {_spell(dims)}; "
                f"got a {array.ndim}-D array of shape {tuple(array.shape)}"
            )
        for axis, (factor, letter) in enumerate(dims):
            size = array.shape[axis]
            if letter not in bound:
                if size % factor:
                    raise ValueError(
                        f"{name} has shape {tuple(array.shape)}, but axis {axis} must be {factor}{letter} "
                        f"(a multiple of {factor}); {size} is not"
                    )
                bound[letter] = (size // factor, name)
                continue
            want, source = bound[letter]
            if size != factor * want:
                needed = ", ".join(str(k * bound[l][0]) if l in bound else (f"{k}{l}" if k != 1 else l) for k, l in dims)
                needed = f"({needed},)" if len(dims) == 1 else f"({needed})"
                raise ValueError(
                    f"{name} has shape {tuple(array.shape)}, but it needs shape {_spell(dims)} = {needed} "
                    f"({letter} = {want} was set by {source})"
                )
        out.append(array)
    return out[0] if len(out) == 1 else tuple(out)


def check_int(name, value, low, high=None):
    """Return `value` as a Python int in [low, high], or raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r} of type {type(value).__name__}")
    value = int(value)
    if value < low or (high is not None and value > high):
        span = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be in {span}; got {value}")
    return value


def check_float(name, value, low=None, high=None, *, open_interval=True):
    """Return `value` as a float, or raise ValueError if it is not a real number in range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number; got {value!r} of type {type(value).__name__}")
    given, value = value, float(value)
    below = low is not None and (value <= low if open_interval else value < low)
    above = high is not None and (value >= high if open_interval else value > high)
    if below or above or value != value:
        if high is None:
            span = f"{'>' if open_interval else '>='} {low:g}"
        else:
            span = f"in ({low:g}, {high:g})" if open_interval else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be {span}; got {given!r}")
    return value


def check_lengths(lengths, N, T):
    """Return per-sequence lengths as an int64 array of shape (N,).

    ``None`` means every sequence is full length (T). Otherwise `lengths` must hold
    N whole numbers in [0, T].
    """
    if lengths is None:
        return np.full(N, T, dtype=np.int64)
    array = as_float_array("lengths", lengths)
    if array.shape != (N,):
        raise ValueError(f"lengths must have shape (N,) = ({N},); got shape {tuple(array.shape)}")
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise ValueError(f"lengths must hold whole numbers; got {array.tolist()}")
    bad = np.flatnonzero((array < 0) | (array > T))
    if bad.size:
        n = int(bad[0])
        raise ValueError(f"lengths[{n}] = {int(array[n])} is outside [0, T] = [0, {T}]")
    return array.astype(np.int64)


def check_mask(mask, N, T):
    """Return an attention mask as a new bool array of shape (N, T): True where a position may be read.

    ``None`` means every position. Otherwise `mask` must hold N rows of T booleans (or of
    0 and 1), and every row must allow at least one position: a softmax over no position
    at all would be 0 / 0.
    """
    if mask is None:
        return np.ones((N, T), dtype=bool)
    try:
        array = np.asarray(mask)
    except Exception as exc:  # ragged lists and other oddities
        raise ValueError(f"mask must be an array of booleans; it could not be read as one ({exc})") from None
    if array.dtype != np.bool_:
        if array.dtype.kind not in "biuf" or not np.all((array == 0) | (array == 1)):
            raise ValueError(f"mask must hold booleans (True where a position may be read), or 0 and 1; "
                             f"got an array of dtype {array.dtype}")
        array = array != 0
    if array.shape != (N, T):
        raise ValueError(f"mask must have shape (N, T) = ({N}, {T}); got shape {tuple(array.shape)}")
    empty = np.flatnonzero(~array.any(axis=1))
    if empty.size:
        raise ValueError(f"mask[{int(empty[0])}] allows no position: every row needs at least one True "
                         f"(a softmax over no position is 0 / 0)")
    return array.copy()
