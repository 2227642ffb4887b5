"""Chapter 6 and 7's figures: paired contrasts with their CIs, and training curves."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_contrasts", "plot_training"]


def plot_contrasts(contrasts, conditions=None, ax=None, title=None):
    """Each contrast's mean paired difference (UAR points) with its 95 % CI, per direction.

    Parameters
    ----------
    contrasts : pandas.DataFrame
        :func:`agser.ser.stats.contrasts` rows (one or more conditions).
    conditions : sequence of str, optional
        Conditions drawn (one column of panels each); default: all.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    conditions = list(conditions or dict.fromkeys(contrasts["condition"]))
    names = list(dict.fromkeys(contrasts["contrast"]))
    fig, axes = plt.subplots(1, len(conditions), figsize=(PAGE_WIDTH, 0.45 * len(names) + 1.4), sharey=True,
                             squeeze=False)
    colours = {"C->I": "tab:blue", "I->C": "tab:orange"}
    for ax, cond in zip(axes[0], conditions):
        c = contrasts[contrasts["condition"] == cond]
        for k, (direction, off) in enumerate((("C->I", -0.15), ("I->C", 0.15))):
            sub = c[c["direction"] == direction].set_index("contrast").reindex(names)
            y = np.arange(len(names)) + off
            ax.errorbar(sub["mean"], y, xerr=[sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]],
                        fmt="o", ms=5, capsize=3, color=colours[direction], label=direction)
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_xlabel("UAR difference (points)")
        ax.set_title(cond if len(conditions) > 1 else (title or cond))
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False)
    return fig


def plot_training(history, title=None):
    """L_ER and the anchoring loss per step, with the validation UAR per epoch.

    Parameters
    ----------
    history : dict
        A run's ``history`` (:func:`agser.ser.protocol.run_experiment`).

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    fig, (a, b) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.0))
    steps = np.arange(1, len(history["er"]) + 1)
    a.plot(steps, history["er"], lw=1, label="L_ER")
    if np.any(np.asarray(history["extra"]) != 0):
        a.plot(steps, history["extra"], lw=1, label="anchoring loss")
    a.set_xlabel("step")
    a.set_ylabel("loss")
    a.legend()
    epochs = np.arange(1, len(history["val_uar"]) + 1)
    b.plot(epochs, history["val_uar"], "o-", ms=3)
    b.axvline(history["best_epoch"], color="grey", ls=":", lw=1)
    b.set_xlabel("epoch")
    b.set_ylabel("validation UAR (%)")
    b.set_title("held-out source speakers")
    if title:
        a.set_title(title)
    return fig
