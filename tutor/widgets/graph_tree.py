"""The computation graph as a tree: the output at the root, each node's operands as its children.

Every line reads ``name  op  data  grad`` with the numbers to four decimals, built as
`rich.text.Text` (never markup, so a label like ``relu`` or ``[x]`` is shown as written).

* **Built lazily.** A node's children are added only when it is expanded, so a graph of 10,000
  values opens as fast as one of ten.
* **Reuse.** A value that is an operand more than once (``b = a + a``, an input feeding every
  neuron) carries a mark with its count, e.g. ``a ↺2``, at every appearance. Its subtree is grown
  at one appearance only, its *home*: the first one met walking the tree depth first, operands in
  order, so always the topmost line. Other appearances are single lines marked ``↑`` that refer
  to it. All appearances of a value share one label, so they light up together.
* **The current step** is drawn with markers that survive a monochrome terminal: ``▶`` and reverse
  video on the node whose ``_backward`` ran, ``◆`` on the operands that received gradient in it, and
  ``←`` with underline on every grad that just changed.
* **Repaint only what changed.** `GraphTree.update_values` relabels just the values it is given
  (their grads or marks changed); other lines keep their cached rendering.

The widget reads the engine's `Stepper` (names, uses, steps); it never runs a backward rule itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode, UnknownNodeID

from engine.numfmt import cell
from engine.ops import label_of

if TYPE_CHECKING:
    from engine.stepper import Stepper
    from engine.value import Value

__all__ = ["GraphTree", "Entry", "format_cell"]

CURRENT_MARK = "▶ "
OPERAND_MARK = "◆ "
NO_MARK = "  "
CHANGED_MARK = " ←"
REUSE_MARK = "↺"
SEE_ABOVE = "↑"

_MAX_NAME_COLUMN = 40  # lines deeper than this stop aligning rather than push numbers off screen
_EXPAND_ALL_UP_TO = 60  # graphs with at most this many values open fully expanded
MAX_DEPTH = 200  # the tree is not opened deeper than this (Textual's Tree walks its lines recursively)


def format_cell(x: float) -> str:
    """A number in the tree's fixed-width data and grad columns (the engine's one number rule)."""
    return cell(x)


@dataclass(frozen=True)
class Entry:
    """What a tree line stands for: a value, at its home or as a reference to it."""

    value: Value
    home: bool


class GraphTree(Tree[Entry]):
    """Shows the graph of a `Stepper`'s root and marks what the stepper's current step did."""

    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "

    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "Run to",
            show=False,
            id="debugger.run_to",
            tooltip="Run the backward pass until the node under the cursor is done",
        ),
        Binding(
            "right",
            "expand_cursor",
            "Expand",
            show=False,
            id="debugger.expand",
            tooltip="Show the operands of the node under the cursor",
        ),
        Binding(
            "left",
            "collapse_cursor",
            "Collapse",
            show=False,
            id="debugger.collapse",
            tooltip="Hide the operands of the node under the cursor, or go to its parent",
        ),
    ]

    COMPONENT_CLASSES = {
        "graph-tree--current",
        "graph-tree--operand",
        "graph-tree--changed",
        "graph-tree--dim",
    }

    def __init__(self, stepper: Stepper, *, name=None, id=None, classes=None):
        super().__init__(Text(""), None, name=name, id=id, classes=classes)
        self.guide_depth = 3
        self.auto_expand = False  # Enter runs to a node; space toggles it
        self.stepper = stepper
        self._setup(stepper)

    # ----------------------------------------------------------------- building

    def _setup(self, stepper: Stepper) -> None:
        self.stepper = stepper
        self._homes: dict[int, tuple[int, int]] = {}  # id(value) -> (id(parent value), slot)
        self._parent_value: dict[int, Value] = {}  # id(value) -> its home parent value
        self._tree_nodes_of: dict[int, list[TreeNode[Entry]]] = {}
        self._home_node: dict[int, TreeNode[Entry]] = {}
        self._materialized: set[int] = set()  # tree node ids whose children exist
        self._shown: dict[int, tuple] = {}  # id(value) -> what its label was built from
        self._marks: dict[int, str] = {}  # id(value) -> "current" | "operand"
        self._changed: set[int] = set()
        self._name_column = 0
        self._styles: dict[str, Style] = {}
        self._op_width = max([len(label_of(node)) for node in stepper.nodes] + [2])
        self._find_homes(stepper.root)

    def load(self, stepper: Stepper) -> None:
        """Show a different stepper's graph (e.g. the mistake-mode rerun), starting afresh."""
        self.clear()
        self._setup(stepper)
        self._attach_root()

    def on_mount(self) -> None:
        self._attach_root()

    def _attach_root(self) -> None:
        root = self.stepper.root
        self.root.data = Entry(root, True)
        self.root.allow_expand = bool(root._prev)
        self._register(self.root, root)
        self._grow_column(self.root, root)
        if len(self.stepper.nodes) <= _EXPAND_ALL_UP_TO:
            self._expand_everything()
        else:
            self._materialize(self.root)
            self.root.expand()
        self._relabel_all()
        self.call_after_refresh(self.move_cursor, self.root)

    def _find_homes(self, root: Value) -> None:
        """Depth-first, operands in order: the first appearance of each value is its home."""
        # A plain recursive pre-order, written with an explicit stack of iterators so deep
        # graphs (long chains of additions) do not hit the recursion limit.
        self._homes.clear()
        self._parent_value.clear()
        seen = {id(root)}
        stack = [(root, iter(enumerate(root._prev)))]
        while stack:
            node, operands = stack[-1]
            for slot, child in operands:
                if id(child) not in seen:
                    seen.add(id(child))
                    self._homes[id(child)] = (id(node), slot)
                    self._parent_value[id(child)] = node
                    stack.append((child, iter(enumerate(child._prev))))
                    break
            else:
                stack.pop()

    def _is_home(self, parent: Value, slot: int, child: Value) -> bool:
        return self._homes.get(id(child)) == (id(parent), slot)

    def _register(self, tree_node: TreeNode[Entry], value: Value) -> None:
        self._tree_nodes_of.setdefault(id(value), []).append(tree_node)
        if tree_node.data.home:
            self._home_node[id(value)] = tree_node

    def _materialize(self, tree_node: TreeNode[Entry]) -> None:
        """Add the operand lines under ``tree_node`` (once)."""
        if tree_node.id in self._materialized or tree_node.data is None:
            return
        self._materialized.add(tree_node.id)
        parent = tree_node.data.value
        for slot, child in enumerate(parent._prev):
            home = self._is_home(parent, slot, child)
            entry = Entry(child, home)
            if home and child._prev:
                line = tree_node.add(Text(""), entry, allow_expand=True)
            else:
                line = tree_node.add_leaf(Text(""), entry)
            self._register(line, child)
            if self._grow_column(line, child):
                self._relabel_all()
            else:
                line.set_label(self._label_for(line))

    def _expand_everything(self) -> None:
        pending = [self.root]
        while pending:
            node = pending.pop()
            if node.allow_expand:
                self._materialize(node)
                node.expand()
                pending.extend(node.children)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Entry]) -> None:
        try:
            current = self.get_node_by_id(event.node.id)
        except UnknownNodeID:
            current = None
        if current is not event.node:
            return  # a line of the graph shown before the last `load`
        if self._depth(event.node) >= MAX_DEPTH:
            event.node.collapse()
            self.notify(f"The tree opens at most {MAX_DEPTH} levels deep.", severity="warning")
            return
        self._materialize(event.node)

    # ----------------------------------------------------------------- labels

    def _depth(self, tree_node: TreeNode[Entry]) -> int:
        depth = 0
        while tree_node.parent is not None:
            tree_node = tree_node.parent
            depth += 1
        return depth

    def _name_text(self, entry: Entry) -> str:
        value = entry.value
        name = self.stepper.name(value)
        uses = self.stepper.uses(value)
        if uses > 1:
            name = f"{name} {REUSE_MARK}{uses}"
        if not entry.home and value._prev:
            name += f" {SEE_ABOVE}"  # its operands are shown at its first appearance, above
        return name

    def _grow_column(self, tree_node: TreeNode[Entry], value: Value) -> bool:
        """Widen the name column for a new line; True when every label must be rebuilt."""
        width = self._depth(tree_node) * self.guide_depth + len(self._name_text(tree_node.data))
        width = min(width, _MAX_NAME_COLUMN)
        if width > self._name_column:
            self._name_column = width
            return True
        return False

    def _style(self, component: str) -> Style:
        style = self._styles.get(component)
        if style is None:
            try:
                style = self.get_component_rich_style(component, partial=True)
            except Exception:  # not mounted yet: styles arrive with the next relabel
                return Style()
            self._styles[component] = style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if getattr(self, "_styles", None):  # the theme or the CSS changed: rebuild every label
            self._styles = {}
            self._relabel_all()

    def _label_for(self, tree_node: TreeNode[Entry]) -> Text:
        value = tree_node.data.value
        key = id(value)
        mark = self._marks.get(key)
        changed = key in self._changed
        name = self._name_text(tree_node.data)
        indent = self._depth(tree_node) * self.guide_depth
        pad = max(1, self._name_column - indent - len(name) + 1)
        text = Text(no_wrap=True, overflow="ellipsis")
        if not tree_node.allow_expand:
            text.append("  ")  # line up with the lines that carry an expand icon
        if mark == "current":
            text.append(CURRENT_MARK, self._style("graph-tree--current"))
            text.append(name, self._style("graph-tree--current"))
        elif mark == "operand":
            text.append(OPERAND_MARK, self._style("graph-tree--operand"))
            text.append(name, self._style("graph-tree--operand"))
        else:
            text.append(NO_MARK)
            text.append(name)
        text.append(" " * pad)
        text.append(f"{label_of(value):<{self._op_width}} ", self._style("graph-tree--dim"))
        text.append(format_cell(value.data))
        text.append(" ")
        grad = format_cell(value.grad)
        if changed:
            text.append(grad, self._style("graph-tree--changed"))
            text.append(CHANGED_MARK, self._style("graph-tree--changed"))
        else:
            text.append(grad)
        return text

    def _label_key(self, value: Value) -> tuple:
        key = id(value)
        return (value.grad, self._marks.get(key), key in self._changed, self._name_column)

    def _relabel(self, value: Value) -> None:
        nodes = self._tree_nodes_of.get(id(value))
        if not nodes:
            return
        key = self._label_key(value)
        if self._shown.get(id(value)) == key:
            return
        self._shown[id(value)] = key
        for tree_node in nodes:
            tree_node.set_label(self._label_for(tree_node))

    def _relabel_all(self) -> None:
        self._shown.clear()
        for nodes in list(self._tree_nodes_of.values()):
            self._relabel(nodes[0].data.value)

    # ----------------------------------------------------------------- following the stepper

    def show_step(self, changed_values: Iterable[Value] | None = None) -> None:
        """Mark the stepper's current step and refresh the grads that may have changed.

        ``changed_values``: the values whose grads changed since the last call (the operands of
        the steps applied or undone). None means "not known": every line is checked.
        """
        step = self.stepper.current
        old_marked = set(self._marks) | self._changed
        self._marks = {}
        self._changed = set()
        touched: dict[int, Value] = {}
        if step is not None:
            self._marks[id(step.node)] = "current"
            touched[id(step.node)] = step.node
            for change in step.changes:
                if change.node is not step.node:
                    self._marks[id(change.node)] = "operand"
                if change.after != change.before:
                    self._changed.add(id(change.node))
                touched[id(change.node)] = change.node
        if changed_values is None:
            for nodes in list(self._tree_nodes_of.values()):
                self._relabel(nodes[0].data.value)
            return
        for value in changed_values:
            touched[id(value)] = value
        for key in old_marked:
            nodes = self._tree_nodes_of.get(key)
            if nodes:
                touched[key] = nodes[0].data.value
        for value in touched.values():
            self._relabel(value)

    def depth_of(self, value: Value) -> int:
        """How many levels below the root ``value``'s home line is."""
        depth = 0
        while id(value) in self._parent_value:
            value = self._parent_value[id(value)]
            depth += 1
        return depth

    def reveal(self, value: Value, *, move_cursor: bool = True) -> TreeNode[Entry] | None:
        """Expand the lines down to ``value``'s home and put the cursor on it.

        Returns None (and changes nothing) for a value deeper than `MAX_DEPTH`.
        """
        chain = [value]
        while id(chain[-1]) in self._parent_value:
            chain.append(self._parent_value[id(chain[-1])])
            if len(chain) > MAX_DEPTH + 1:
                return None
        if chain[-1] is not self.stepper.root:
            return None
        tree_node = self.root
        for child in list(reversed(chain))[1:]:
            self._materialize(tree_node)
            if not tree_node.is_expanded:
                tree_node.expand()
            slot = self._homes[id(child)][1]
            tree_node = tree_node.children[slot]
        if move_cursor:
            self.call_after_refresh(self._follow, tree_node)
        return tree_node

    def _follow(self, tree_node: TreeNode[Entry]) -> None:
        self.move_cursor(tree_node)
        # keep the start of the line in view on deep graphs (Tree only scrolls vertically)
        indent = self._depth(tree_node) * self.guide_depth
        if indent < self.scroll_x or indent > self.scroll_x + max(0, self.size.width - 30):
            self.scroll_to(x=max(0, indent - 6), animate=False)

    def home_node(self, value: Value) -> TreeNode[Entry] | None:
        return self._home_node.get(id(value))

    def tree_nodes_of(self, value: Value) -> list[TreeNode[Entry]]:
        """Every line that shows ``value`` (home and references) built so far."""
        return list(self._tree_nodes_of.get(id(value), ()))

    # ----------------------------------------------------------------- keys

    def action_expand_cursor(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand and not node.is_expanded:
            if self._depth(node) >= MAX_DEPTH:
                self.notify(f"The tree opens at most {MAX_DEPTH} levels deep.", severity="warning")
                return
            self._materialize(node)
            node.expand()

    def action_collapse_cursor(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)
