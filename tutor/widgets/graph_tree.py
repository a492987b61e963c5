"""The computation graph as a tree: the output at the root, each node's operands as its children.

Every line reads ``name  op  data  grad`` with the numbers to four decimals, built as
`rich.text.Text` (never markup, so a label like ``relu`` or ``[x]`` is shown as written).

* **Built lazily.** A node's children are added only when it is expanded, so a graph of 10,000
  values opens as fast as one of ten.
* **Reuse.** A value that is an operand more than once (``b = a + a``, an input feeding every
  neuron) carries a mark with its count, e.g. ``a ↺2``, at every appearance. Its subtree is grown
  at one appearance only, its *home*: the first one met walking the tree depth first, operands in
  order, so always the topmost line. Other appearances are single lines marked ``↑`` that refer
  to it. Every appearance is drawn from the same value and refreshed with it, so they light up
  together.
* **The current step** is drawn with markers that survive a monochrome terminal: ``▶`` and reverse
  video on the node whose ``_backward`` ran, ``◆`` on the operands that received gradient in it, and
  ``←`` with underline on every grad that just changed.
* **Drawn through Textual's hooks.** `GraphTree.render_label` draws a line from its value as it
  is now; `GraphTree.show_step` calls `TreeNode.refresh` on the lines of the values a step
  touched, so only those are drawn again. `GraphTree.columns` says where the columns are, for a
  header row above the tree.

The widget reads the engine's `Stepper` (names, uses, steps); it never runs a backward rule itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.reactive import var
from textual.widgets import Tree
from textual.widgets.tree import TreeNode, UnknownNodeID

from engine.numfmt import cell
from engine.ops import label_of

if TYPE_CHECKING:
    from engine.stepper import Stepper
    from engine.value import Value

__all__ = ["GraphTree", "Entry", "Columns", "format_cell", "MAX_DEPTH"]

CURRENT_MARK = "▶ "
OPERAND_MARK = "◆ "
NO_MARK = "  "
CHANGED_MARK = " ←"
REUSE_MARK = "↺"
SEE_ABOVE = "↑"

_MAX_NAME_COLUMN = 40  # lines deeper than this stop aligning rather than push numbers off screen
_NARROW_GUIDES_BELOW = 8  # levels: deeper trees indent by 2 cells a level instead of 3
_EXPAND_ALL_UP_TO = 60  # graphs with at most this many values open fully expanded
MAX_DEPTH = 200  # the tree is not opened deeper than this (Textual's Tree walks its lines recursively)


def format_cell(x: float) -> str:
    """A number in the tree's fixed-width data and grad columns (the engine's one number rule)."""
    return cell(x)


@dataclass(frozen=True)
class Columns:
    """Where the parts of a tree line sit, in cells, for a header row drawn above the tree.

    A line is: ``lead`` cells (the expand icon and the ▶/◆ mark), the name padded to ``name``
    cells (this counts the guides' indent, so every line's op starts in the same column), a
    space, the op padded to ``op`` cells, a space, then data and grad, ``number`` cells each,
    one space apart.
    """

    lead: int = 4
    name: int = 0
    op: int = 2
    number: int = len(cell(0.0))


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

    columns: var[Columns] = var(Columns())
    """The column layout of the lines built so far (it widens as deeper lines are added)."""

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
        self._depths: dict[int, int] = {}  # tree node id -> levels below the root (lines never move)
        self._materialized: set[int] = set()  # tree node ids whose children exist
        self._marks: dict[int, str] = {}  # id(value) -> "current" | "operand"
        self._changed: set[int] = set()
        self._pending: set[int] = set()  # id(value): not computed yet in the forward pass shown
        self._styles: dict[str, Style] = {}
        self.columns = Columns(
            lead=len(self.ICON_NODE) + len(NO_MARK),
            op=max([len(label_of(node)) for node in stepper.nodes] + [2]),
        )
        self._find_homes(stepper.root)
        # deep graphs (a network's sample) get narrower guides, so more of each name fits
        self.guide_depth = 2 if self._deepest() > _NARROW_GUIDES_BELOW else 3

    def _deepest(self) -> int:
        """How many levels the tree has below its root (each value at its home line)."""
        depth: dict[int, int] = {}
        deepest = 0
        for node in reversed(self.stepper.nodes):  # a home parent comes before its children
            parent = self._parent_value.get(id(node))
            depth[id(node)] = 0 if parent is None else depth.get(id(parent), 0) + 1
            deepest = max(deepest, depth[id(node)])
        return deepest

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
        self._grow_column(self.root)
        if len(self.stepper.nodes) <= _EXPAND_ALL_UP_TO:
            self._expand_everything()
        else:
            self._materialize(self.root)
            self.root.expand()
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
        parent = tree_node.parent
        self._depths[tree_node.id] = 0 if parent is None else self._depths[parent.id] + 1
        self._tree_nodes_of.setdefault(id(value), []).append(tree_node)
        if tree_node.data.home:
            self._home_node[id(value)] = tree_node

    def _materialize(self, tree_node: TreeNode[Entry]) -> None:
        """Add the operand lines under ``tree_node`` (once)."""
        if tree_node.id in self._materialized or tree_node.data is None:
            return
        self._materialized.add(tree_node.id)
        parent = tree_node.data.value
        widened = False
        for slot, child in enumerate(parent._prev):
            home = self._is_home(parent, slot, child)
            entry = Entry(child, home)
            # the label is drawn by `render_label`; the node's own label stays empty
            if home and child._prev:
                line = tree_node.add(Text(""), entry, allow_expand=True)
            else:
                line = tree_node.add_leaf(Text(""), entry)
            self._register(line, child)
            widened = self._grow_column(line) or widened
        if widened:
            self._refresh_all()  # every line's numbers move right

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
        return self._depths[tree_node.id]

    def _name_text(self, entry: Entry) -> str:
        value = entry.value
        name = self.stepper.name(value)
        uses = self.stepper.uses(value)
        if uses > 1:
            name = f"{name} {REUSE_MARK}{uses}"
        if not entry.home and value._prev:
            name += f" {SEE_ABOVE}"  # its operands are shown at its first appearance, above
        return name

    def _shown_name(self, tree_node: TreeNode[Entry]) -> str:
        """The name as drawn: cut with … where a deep line would push its numbers out of line."""
        name = self._name_text(tree_node.data)
        room = self.columns.name - self._depth(tree_node) * self.guide_depth
        if len(name) > room >= 2:
            return name[: room - 1] + "…"
        return name

    def _grow_column(self, tree_node: TreeNode[Entry]) -> bool:
        """Widen the name column for a new line; True when it widened (every line moves)."""
        width = self._depth(tree_node) * self.guide_depth + len(self._name_text(tree_node.data))
        width = min(width, _MAX_NAME_COLUMN)
        if width > self.columns.name:
            self.columns = replace(self.columns, name=width)
            return True
        return False

    def _style(self, component: str) -> Style:
        style = self._styles.get(component)
        if style is None:
            try:
                style = self.get_component_rich_style(component, partial=True)
            except Exception:  # not mounted yet: not kept, so the next line drawn asks again
                return Style()
            self._styles[component] = style
        return style

    def notify_style_update(self) -> None:
        self._styles = {}  # the theme or the CSS changed; Tree then draws every line again
        super().notify_style_update()

    def render_label(self, node: TreeNode[Entry], base_style: Style, style: Style) -> Text:
        """Tree's hook: the expand icon (from Tree), then ``name  op  data  grad`` as they are now."""
        text = super().render_label(node, base_style, style)  # the node's own label is empty
        if node.data is not None:
            label = self._label_for(node)
            label.stylize(style)  # the cursor and hover styles, as Tree gives its own labels
            text.append_text(label)
        return text

    def get_label_width(self, node: TreeNode[Entry]) -> int:
        """Tree's hook for the width of a line (for the horizontal scroll), counted, not drawn."""
        if node.data is None:
            return super().get_label_width(node)
        columns = self.columns
        name = self._shown_name(node)
        pad = max(1, columns.name - self._depth(node) * self.guide_depth - len(name) + 1)
        width = columns.lead + cell_len(name) + pad + columns.op + 1 + 2 * columns.number + 1
        return width + (len(CHANGED_MARK) if id(node.data.value) in self._changed else 0)

    def _label_for(self, tree_node: TreeNode[Entry]) -> Text:
        value = tree_node.data.value
        key = id(value)
        mark = self._marks.get(key)
        changed = key in self._changed
        name = self._shown_name(tree_node)
        indent = self._depth(tree_node) * self.guide_depth
        columns = self.columns
        pad = max(1, columns.name - indent - len(name) + 1)
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
        text.append(f"{label_of(value):<{columns.op}} ", self._style("graph-tree--dim"))
        if key in self._pending:  # the forward pass has not reached it yet
            text.append("?".rjust(len(format_cell(0.0))), self._style("graph-tree--dim"))
            return text
        text.append(format_cell(value.data))
        text.append(" ")
        grad = format_cell(value.grad)
        if changed:
            text.append(grad, self._style("graph-tree--changed"))
            text.append(CHANGED_MARK, self._style("graph-tree--changed"))
        else:
            text.append(grad)
        return text

    def _refresh(self, key: int) -> None:
        for tree_node in self._tree_nodes_of.get(key, ()):
            tree_node.refresh()

    def _refresh_all(self) -> None:
        for nodes in self._tree_nodes_of.values():
            for tree_node in nodes:
                tree_node.refresh()

    # ----------------------------------------------------------------- following the stepper

    def show_step(self, changed_values: Iterable[Value] | None = None) -> None:
        """Mark the stepper's current step and draw again the lines whose grads may have changed.

        ``changed_values``: the values whose grads changed since the last call (the operands of
        the steps applied or undone). None means "not known": every line is drawn again.
        """
        step = self.stepper.current
        touched = set(self._marks) | self._changed  # what the last step marked loses its marks
        self._marks = {}
        self._changed = set()
        if step is not None:
            self._marks[id(step.node)] = "current"
            touched.add(id(step.node))
            for change in step.changes:
                if change.node is not step.node:
                    self._marks[id(change.node)] = "operand"
                if change.after != change.before:
                    self._changed.add(id(change.node))
                touched.add(id(change.node))
        if changed_values is None:
            self._refresh_all()
            return
        touched.update(id(value) for value in changed_values)
        for key in touched:
            self._refresh(key)

    def show_forward(self, computed: int | None) -> None:
        """Draw the forward pass with its first ``computed`` op nodes worked out (in topological
        order, so data appears from the inputs up): ▶ on the node just computed, ◆ on its
        operands, ``?`` for the data of the nodes not reached yet. None: every node computed
        (back to `show_step`'s marks)."""
        self._marks = {}
        self._changed = set()
        self._pending = set()
        if computed is not None:
            ops = [node for node in self.stepper.nodes if node._prev]
            self._pending = {id(node) for node in ops[computed:]}
            if computed:
                node = ops[computed - 1]
                for operand in node._prev:
                    self._marks[id(operand)] = "operand"
                self._marks[id(node)] = "current"
        self._refresh_all()

    def depth_of(self, value: Value) -> int:
        """How many levels below the root ``value``'s home line is."""
        depth = 0
        while id(value) in self._parent_value:
            value = self._parent_value[id(value)]
            depth += 1
        return depth

    def reveal(
        self, value: Value, *, move_cursor: bool = True, with_operands: bool = False
    ) -> TreeNode[Entry] | None:
        """Expand the lines down to ``value``'s home and put the cursor on it; ``with_operands``
        also opens its operand lines and scrolls so they are in view below it (when the tree
        has room for them).

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
        if with_operands and tree_node.allow_expand:
            self._materialize(tree_node)
            if not tree_node.is_expanded:
                tree_node.expand()
        if move_cursor:
            self.call_after_refresh(self._follow, tree_node, with_operands)
        return tree_node

    def _follow(self, tree_node: TreeNode[Entry], with_operands: bool = False) -> None:
        if with_operands and tree_node.is_expanded and tree_node.children:
            last = tree_node.children[-1].line
            if last >= 0 and last - tree_node.line < self.size.height:
                self.scroll_to_line(last, animate=False)  # the operands first, then the node
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
