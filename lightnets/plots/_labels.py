"""Point labels that never collide: each label takes the first free place around its point."""
from __future__ import annotations

import math

# Offsets (points) tried around a point, nearest first; from the second ring on, a thin leader
# line joins the label to its point.
_RINGS = (6, 14, 24, 36, 50, 66)
_DIRECTIONS = 12


def _candidates():
    for ring, radius in enumerate(_RINGS):
        for step in range(_DIRECTIONS):
            angle = 2 * math.pi * step / _DIRECTIONS + (math.pi / _DIRECTIONS) * (ring % 2)
            yield ring, radius * math.cos(angle), radius * math.sin(angle)


def place_labels(ax, xs, ys, texts, fontsize: float = 7, avoid=(), extra_points=()) -> list:
    """Annotate each (x, y) with its text where it overlaps no other label, no point, no text in
    ``avoid`` and no marker in ``extra_points`` ((x, y) pairs drawn without a label), and stays
    inside the axes. Places are tried nearest first; a label that had to move beyond the first
    ring gets a thin leader line from its point to the label's nearest edge. Call after the layout
    is final (``tight_layout``): offsets are in points, so the placement holds at any dpi.
    Returns the annotations."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    scale = fig.dpi / 72
    points = [ax.transData.transform((x, y)) for x, y in zip(xs, ys)]
    marker = 4 * scale  # half the side of the box kept free around each point
    taken = [(px - marker, py - marker, px + marker, py + marker)
             for px, py in points + [ax.transData.transform(p) for p in extra_points]]
    taken += [tuple(t.get_window_extent(renderer).extents) for t in avoid]
    placed = []
    for (px, py), x, y, text in zip(points, xs, ys, texts):
        probe = ax.annotate(text, (x, y), fontsize=fontsize)  # measured, then removed
        box = probe.get_window_extent(renderer)
        probe.remove()
        pad = 1.5 * scale  # a little air, and room for the text's drawn extent
        width, height = box.width + 2 * pad, box.height + 2 * pad
        ring, rect = 0, None
        for ring, dx, dy in _candidates():
            # The label's nearest edge sits at the offset, so it never covers its own point.
            cx = px + dx * scale + (math.copysign(width / 2, dx) if abs(dx) > 1e-6 else 0)
            cy = py + dy * scale + (math.copysign(height / 2, dy) if abs(dy) > 1e-6 else 0)
            box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
            fits = (box[0] >= inside.x0 + 2 and box[2] <= inside.x1 - 2
                    and box[1] >= inside.y0 + 2 and box[3] <= inside.y1 - 2)
            if fits and not any(_overlap(box, other) for other in taken):
                rect = box
                break
        if rect is None:
            raise ValueError(f"no free place for the label {text!r}: make the figure larger or "
                             "label fewer points")
        offset = ((rect[0] + rect[2]) / 2 - px) / scale, ((rect[1] + rect[3]) / 2 - py) / scale
        if ring:  # the leader line is its own empty annotation, so the label's box is the text
            edge = (min(max(px, rect[0]), rect[2]) - px) / scale, \
                (min(max(py, rect[1]), rect[3]) - py) / scale
            ax.annotate("", (x, y), textcoords="offset points", xytext=edge,
                        arrowprops=dict(arrowstyle="-", lw=0.5, color="0.45", shrinkA=0,
                                        shrinkB=3))
        placed.append(ax.annotate(text, (x, y), textcoords="offset points", xytext=offset,
                                  fontsize=fontsize, ha="center", va="center"))
        taken.append(rect)
    return placed


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
