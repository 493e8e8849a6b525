"""The class report's two charts, drawn by matplotlib as SVG text to embed in the page.

`histogram(totals, maximum)` and `part_bars(parts)` return the markup of one ``<svg>``
element, or None when matplotlib cannot be imported (it is a dev dependency): the report
then shows the same numbers as tables. Nothing here touches pyplot's global state: each
chart is a `Figure` on its own Agg canvas, saved as SVG with its text kept as text.
"""
import io
import re
import statistics

#: colours of the charts (the bars match the page's links; mean and median are told apart by dash as well)
BAR, MEAN, MEDIAN, GRID = "#4a78c2", "#b35806", "#222222", "#dddddd"


def available():
    """Whether matplotlib can be imported here."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _svg(fig, prefix):
    """The figure as one <svg> element whose ids (and references to them) start with `prefix`."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": prefix}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # two charts on one page: matplotlib numbers its ids (figure_1, axes_1, ...) the same in each
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r'url\(#([^)]+)\)', rf'url(#{prefix}-\1)', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    return text.replace("<svg ", '<svg role="img" ', 1)


def _style(ax):
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=10)
    ax.set_axisbelow(True)


def histogram(totals, maximum, *, bins=20):
    """Students per score band from 0 to `maximum`, with the mean and the median marked; None without matplotlib."""
    if not available() or not totals:
        return None
    from matplotlib.ticker import MaxNLocator

    fig = _figure(5.8, 2.9)
    ax = fig.add_subplot()
    top = maximum or max(totals) or 1.0
    ax.hist([min(max(t, 0.0), top) for t in totals], bins=bins, range=(0, top), color=BAR, edgecolor="white")
    mean, median = statistics.mean(totals), statistics.median(totals)
    ax.axvline(mean, color=MEAN, linestyle="--", linewidth=1.6, label=f"mean {mean:.1f}")
    ax.axvline(median, color=MEDIAN, linestyle="-", linewidth=1.6, label=f"median {median:g}")
    ax.set_xlim(0, top)
    ax.set_xlabel(f"total score (out of {top:g}); each bar is {top / bins:g} points wide", fontsize=10)
    ax.set_ylabel("students", fontsize=10)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, fontsize=10, frameon=False, borderaxespad=0.2)
    _style(ax)
    return _svg(fig, "hist")


def part_bars(parts):
    """parts: [(label, mean share of the part's points)] as bars, first part on top; None without matplotlib."""
    if not available() or not parts:
        return None
    from matplotlib.ticker import PercentFormatter

    fig = _figure(5.8, 0.36 * len(parts) + 0.9)
    ax = fig.add_subplot()
    labels = [label for label, _ in parts]
    shares = [share for _, share in parts]
    positions = range(len(parts))
    ax.barh(positions, [1.0] * len(parts), color="#eef2f8", height=0.62)  # the whole part, for scale
    ax.barh(positions, shares, color=BAR, height=0.62)
    for y, share in zip(positions, shares):
        ax.text(min(share, 1.0) + 0.01, y, f"{share:.0%}", va="center", fontsize=10)
    ax.set_yticks(list(positions), labels, fontsize=10)
    ax.invert_yaxis()  # the lesson's first part on top
    ax.set_xlim(0, 1.08)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("mean score as a share of the part's points", fontsize=10)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    _style(ax)
    return _svg(fig, "parts")
