"""Run one benchmark (``python -m cvlib.bench conv``) or all of them (``... all``).

The grading benchmark measures the grading tools, a layer above this package, so it lives with
them: ``python -m cvlib.tools.grading.bench_grading`` (``make bench`` runs both).
"""

import importlib
import pkgutil
import sys

import cvlib.bench as _pkg

ORDER = ["conv", "train", "augment", "transfer", "detection", "capstone"]


def available():
    names = [m.name for m in pkgutil.iter_modules(_pkg.__path__) if not m.name.startswith("_")]
    return sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    names = available()
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: python -m cvlib.bench {all," + ",".join(names) + "} [options]")
        return 0
    chosen = names if argv[0] == "all" else [argv[0]]
    for name in chosen:
        if name not in names:
            print(f"unknown benchmark {name!r}; choose from: all, {', '.join(names)}")
            return 2
        print(f"\n=== cvlib.bench {name} ===", flush=True)
        importlib.import_module(f"cvlib.bench.{name}").main(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
