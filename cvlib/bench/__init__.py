"""Benchmarks and experiments that print figures: ``python -m cvlib.bench NAME``.

Each NAME is a module of this package with a ``main(argv)`` function; ``all`` runs them in order.
Speed and accuracy targets are measured here, never in timed unit tests.
"""
