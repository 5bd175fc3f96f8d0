"""The one shape of every experiment: ``run(settings=None, **overrides) -> result``.

Each module of :mod:`cvlib.experiments` defines a frozen ``Settings`` dataclass (its defaults are
the settings the benchmark reports) and a ``run`` that takes a ``Settings``, keyword overrides of
its fields, or both: ``augmentation.run(epochs=20)`` is ``augmentation.run(Settings(epochs=20))``.
"""

import dataclasses

__all__ = ["resolve"]


def resolve(settings_class, settings, overrides):
    """``settings`` (default ``settings_class()``) with ``overrides`` replacing fields.

    A name that is not a field is a ``TypeError`` that lists the fields.
    """
    if settings is None:
        settings = settings_class()
    elif not isinstance(settings, settings_class):
        raise TypeError(
            f"`settings` must be a {settings_class.__qualname__}, got {type(settings).__name__}"
        )
    fields = {f.name for f in dataclasses.fields(settings_class)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"unknown setting(s) {unknown}; the settings are {sorted(fields)}")
    return dataclasses.replace(settings, **overrides)
