"""Uplift estimate error in simulated campaigns with a known true effect.

Each simulated campaign draws N customers, holds out a control group with the campaign's
share, gives every customer a baseline conversion probability (heterogeneous: a beta
distribution around the base rate) and adds the true uplift to the target group's. The
estimate is marketing's own (``outcomes.uplift_interval``: difference of conversion rates
with a 95% normal-approximation interval), as `GET …/campaigns/{id}/results` answers it.
Reported: mean absolute error, bias, RMSE and how often the interval covers the truth.

    uv run python benchmarks/marketing/bench_uplift.py [--runs 500] [--customers 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bankcrm_marketing.outcomes import uplift_interval

RESULTS = Path(__file__).resolve().parent.parent / "results"


def simulate(rng: np.random.Generator, customers: int, share: float, base: float,
             uplift: float) -> tuple[float, float, float]:  # fmt: skip
    control = rng.random(customers) < share
    # Heterogeneous baseline propensity with mean ``base``.
    concentration = 20.0
    p = rng.beta(base * concentration, (1 - base) * concentration, customers)
    p = np.where(control, p, np.clip(p + uplift, 0, 1))
    converted = rng.random(customers) < p
    n_t, n_c = int((~control).sum()), int(control.sum())
    conv_t, conv_c = int(converted[~control].sum()), int(converted[control].sum())
    found = uplift_interval(n_t, conv_t, n_c, conv_c)
    assert found is not None
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    scenarios = [(0.1, 0.05, 0.02), (0.1, 0.05, 0.0), (0.2, 0.03, 0.01), (0.05, 0.10, 0.03)]
    rows = []
    started = time.perf_counter()
    for share, base, true_uplift in scenarios:
        errors, covered = [], 0
        for _ in range(args.runs):
            estimate, low, high = simulate(rng, args.customers, share, base, true_uplift)
            errors.append(estimate - true_uplift)
            covered += low <= true_uplift <= high
        e = np.array(errors)
        rows.append({
            "control_share": share, "base_rate": base, "true_uplift": true_uplift,
            "mean_abs_error": float(np.abs(e).mean()), "bias": float(e.mean()),
            "rmse": float(np.sqrt((e**2).mean())), "coverage_95": covered / args.runs,
        })  # fmt: skip
    elapsed = time.perf_counter() - started
    machine = {
        "cores": os.cpu_count(), "python": platform.python_version(),
        "load_average": os.getloadavg(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    report = {"runs": args.runs, "customers": args.customers, "seconds": elapsed,
              "machine": machine, "scenarios": rows}  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}-marketing-uplift.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# Marketing uplift estimate error ({stamp} UTC)",
        "",
        f"{args.runs} simulated campaigns per row, {args.customers} customers each; machine:"
        f" {machine['cores']} cores (shared), load {machine['load_average']}.",
        "",
        "| control share | base rate | true uplift | mean abs error | bias | RMSE | 95% coverage |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['control_share']} | {r['base_rate']} | {r['true_uplift']} |"
            f" {r['mean_abs_error']:.5f} | {r['bias']:+.5f} | {r['rmse']:.5f} |"
            f" {r['coverage_95']:.3f} |"
        )
    (RESULTS / f"{stamp}-marketing-uplift.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
