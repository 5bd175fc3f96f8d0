"""Results of experiments repeated over seeds: accuracy per method, mean and spread."""

import statistics
from dataclasses import dataclass, field

__all__ = ["SeedResults"]


@dataclass
class SeedResults:
    """Test accuracies of each method over seeds, with mean and standard deviation.

    ``cvlib.viz.plot_seed_results`` draws it as bars with error bars and one dot per seed.

    Examples
    --------
    >>> r = SeedResults({"a": [0.5, 0.7], "b": [0.9, 0.9]}, seeds=(0, 1), setting="toy")
    >>> round(r.mean("a"), 2), round(r.std("a"), 3), r.std("b")
    (0.6, 0.141, 0.0)
    """

    accuracies: dict  # method -> list of accuracies, one per seed
    seeds: tuple
    setting: str
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def mean(self, method):
        return statistics.fmean(self.accuracies[method])

    def std(self, method):
        values = self.accuracies[method]
        return statistics.stdev(values) if len(values) > 1 else 0.0

    def compare(self, method, baseline):
        """How the mean of ``method`` compares with that of ``baseline``: ``"above"``,
        ``"below"`` or ``"within the spread"`` (a difference no larger than the bigger of their
        two standard deviations over the seeds). Prose built on it follows the measurement.

        >>> r = SeedResults({"a": [0.80, 0.84], "b": [0.90, 0.92], "c": [0.83, 0.85]}, (0, 1), "")
        >>> r.compare("b", "a"), r.compare("a", "b"), r.compare("c", "a")
        ('above', 'below', 'within the spread')
        """
        diff = self.mean(method) - self.mean(baseline)
        if abs(diff) <= max(self.std(method), self.std(baseline)):
            return "within the spread"
        return "above" if diff > 0 else "below"

    def table(self):
        """A plain-text table: one row per method, accuracy as mean +- std and per seed."""
        width = max(len(m) for m in self.accuracies)
        lines = [self.setting, f"{'method':<{width}}  mean +- std      per seed"]
        for m, values in self.accuracies.items():
            runs = " ".join(f"{v:.3f}" for v in values)
            lines.append(f"{m:<{width}}  {self.mean(m):.3f} +- {self.std(m):.3f}  {runs}")
        lines.append(f"({len(self.seeds)} seeds, {self.seconds:.0f} s)")
        return "\n".join(lines)
