"""The last lines of every figure builder, written once."""
from __future__ import annotations


def finish(fig, ax, xlabel: str, ylabel: str, title: str = None, legend_fontsize=None,
           grid_which: str = "major"):
    """Label the axes, add the legend and a light grid, tighten the layout: how every figure here
    ends. Returns the figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(True, which=grid_which, alpha=0.3)
    ax.legend(fontsize=legend_fontsize)
    fig.tight_layout()
    return fig

