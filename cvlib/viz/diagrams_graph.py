"""A computational graph with its numbers: forward values above each wire, gradients below.

CS231n's way of teaching backpropagation: draw the expression as a graph of small gates, write
the value each wire carries on the forward pass, then walk back from the output and write the
gradient of the output with respect to each wire. The numbers come from the caller (who computed
them, and checked them against autograd); the diagram only lays them out.
"""

from ._draw import COLOURS, EDGE, FONT, arrow, box, canvas

__all__ = ["computational_graph_diagram"]

FORWARD, BACKWARD = "#2b7a3d", "#b2182b"  # green values, red gradients (dark enough on white)


def computational_graph_diagram(nodes, edges, title=None):
    """Draw the graph ``nodes`` / ``edges`` with each node's value and gradient.

    Parameters
    ----------
    nodes : dict
        ``name -> (x, y, label, value, grad)``: the position in data units, the text in the
        box (a variable's name or a gate's operation), the forward value, and the gradient of
        the output with respect to the node's output.
    edges : list of (str, str)
        ``(source, target)``: the source's value flows into the target gate.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.labels`` lists ``(name, value text, gradient text)`` as written.

    Examples
    --------
    >>> nodes = {"a": (0, 0, "a", 2.0, 3.0), "b": (0, 1.5, "b", -1.0, 6.0),
    ...          "m": (2, 0.75, "*", -2.0, 1.0)}
    >>> fig = computational_graph_diagram(nodes, [("a", "m"), ("b", "m")])
    >>> fig.labels[2]
    ('m', '-2', '1')
    """
    for source, target in edges:
        for end in (source, target):
            if end not in nodes:
                raise ValueError(f"`edges` names {end!r}, which is not one of the `nodes`")
    xs = [n[0] for n in nodes.values()]
    ys = [n[1] for n in nodes.values()]
    fig, ax = canvas(
        1.3 * (max(xs) - min(xs) + 2.4),
        1.3 * (max(ys) - min(ys) + 1.8),
        (min(xs) - 0.6, max(xs) + 1.8),
        (min(ys) - 0.9, max(ys) + 0.9),
        title,
    )
    w, h = 0.8, 0.5
    for source, target in edges:
        (x0, y0), (x1, y1) = nodes[source][:2], nodes[target][:2]
        arrow(ax, (x0 + w / 2, y0), (x1 - w / 2, y1), colour=EDGE)
    labels = []
    for name, (x, y, label, value, grad) in nodes.items():
        role = "join" if label in ("+", "*", "max") else "data"
        box(ax, x - w / 2, y - h / 2, w, h, label, role=COLOURS[role], fontsize=FONT + 1)
        value_text, grad_text = f"{value:g}", f"{grad:g}"
        for dy, text, colour, va in (
            (0.1, value_text, FORWARD, "bottom"),
            (-0.1, grad_text, BACKWARD, "top"),
        ):
            ax.text(
                x + w / 2 + 0.08,
                y + dy,
                text,
                color=colour,
                fontsize=FONT,
                ha="left",
                va=va,
                fontweight="bold",
                zorder=4,  # above the arrows, on white
                bbox={"fc": "white", "ec": "none", "pad": 0.5},
            )
        labels.append((name, value_text, grad_text))
    ax.text(min(xs) - 0.5, min(ys) - 0.75, "value (forward)", color=FORWARD, fontsize=FONT - 1)
    ax.text(
        min(xs) + 1.6,
        min(ys) - 0.75,
        "gradient of the output (backward)",
        color=BACKWARD,
        fontsize=FONT - 1,
    )
    fig.labels = labels
    return fig
