"""Bootstrap intervals: ours against the naive peer loop, timed in one run.

1. Weighted kappa, B = 10,000 resamples of N = 10,000 paired ratings on the EA grid: our
   multinomial table bootstrap vs sklearn's cohen_kappa_score on each resample.
2. Krippendorff's alpha (ordinal), B = 1,000 resamples of 4 coders x 2,000 units with 10%
   missing: our coincidence-matrix bootstrap vs krippendorff.alpha on each resample.

Prints our time, the peer's, the ratio, and both intervals (which must agree within Monte
Carlo error: the resamples differ, the distribution does not).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score

from reliability import Scale, cohen_kappa, krippendorff_alpha

EA = Scale(1, 7, 0.5)


def best_of(repeats: int, run: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def percentile_95(replicates: list[float]) -> tuple[float, float]:
    low, high = np.quantile(replicates, [0.025, 0.975])
    return float(low), float(high)


def report(
    title: str, ours_time: float, ours_ci: tuple, peer_time: float, peer_ci: tuple, peer: str
) -> tuple[float, float]:
    """Print our time and interval, the peer's, and the ratio."""
    print(title)
    print(f"  ours  {ours_time:9.3f} s   95% CI {ours_ci[0]:.4f} to {ours_ci[1]:.4f}")
    print(f"  peer  {peer_time:9.3f} s   95% CI {peer_ci[0]:.4f} to {peer_ci[1]:.4f}   ({peer})")
    print(f"  ratio {peer_time / ours_time:9.1f} x faster")
    return ours_time, peer_time


def ea_ratings(rng: np.random.Generator, coders: int, units: int) -> np.ndarray:
    """Level indices on the EA grid: a latent score per unit plus each coder's noise."""
    latent = rng.normal(8, 2, size=units)
    return np.clip(np.round(latent + rng.normal(0, 1, size=(coders, units))), 0, EA.k - 1).astype(int)


def kappa_bench(n_units: int, n_boot: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    a, b = ea_ratings(rng, 2, n_units)
    ours_time, ours = best_of(
        3, lambda: cohen_kappa(EA.levels[a], EA.levels[b], EA, "linear", ci="bootstrap", n_boot=n_boot, seed=seed)
    )

    def peer() -> tuple[float, float]:
        draws = np.random.default_rng(seed)
        labels = list(range(EA.k))
        replicates = []
        for _ in range(n_boot):
            i = draws.integers(0, n_units, n_units)
            replicates.append(cohen_kappa_score(a[i], b[i], labels=labels, weights="linear"))
        return percentile_95(replicates)

    peer_time, peer_ci = best_of(1, peer)
    return report(
        f"weighted kappa bootstrap, B={n_boot:,}, N={n_units:,} on the 13-level EA grid",
        ours_time,
        ours.ci,
        peer_time,
        peer_ci,
        "sklearn cohen_kappa_score per resample",
    )


def alpha_bench(n_coders: int, n_units: int, n_boot: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    data = EA.levels[ea_ratings(rng, n_coders, n_units)].astype(float)
    data[rng.random(data.shape) < 0.10] = np.nan
    ours_time, ours = best_of(3, lambda: krippendorff_alpha(data, EA, "ordinal", n_boot=n_boot, seed=seed))
    pairable = data[:, (~np.isnan(data)).sum(axis=0) >= 2]

    def peer() -> tuple[float, float]:
        draws = np.random.default_rng(seed)
        replicates = []
        for _ in range(n_boot):
            columns = draws.integers(0, pairable.shape[1], pairable.shape[1])
            replicates.append(
                krippendorff.alpha(pairable[:, columns], value_domain=EA.levels, level_of_measurement="ordinal")
            )
        return percentile_95(replicates)

    peer_time, peer_ci = best_of(1, peer)
    title = f"Krippendorff alpha (ordinal) bootstrap, B={n_boot:,}, {n_coders} coders x {n_units:,} units, 10% missing"
    return report(title, ours_time, ours.ci, peer_time, peer_ci, "krippendorff.alpha per resample")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    kappa_bench(n_units=10_000, n_boot=10_000, seed=args.seed)
    print()
    alpha_bench(n_coders=4, n_units=2_000, n_boot=1_000, seed=args.seed)


if __name__ == "__main__":
    main()
