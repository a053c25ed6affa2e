"""The sandbox for templates that users write (mailing bodies): runaway work is impossible.

Jinja2's own sandbox stops attribute escapes but not work: ``{{ 7 ** 15000000 }}`` was even
computed while *compiling* (constant folding), nested loops spin without output, ``"x" * 10**9``
or a macro that doubles a string fills the memory. This environment makes every kind of work a
template can do pass a check, against a per-render :class:`Budget`:

* **Numbers**: ``**``, ``*`` and ``+`` are intercepted (which also stops the compiler from
  folding them) and refuse integers beyond :data:`MAX_INT_BITS` bits.
* **Sizes**: every value a template makes (operators, filters, method calls, list and dict
  literals, ``~``) is measured as the text it would become, and refused beyond the output limit
  (``max_chars``) *before* it is built where the size can be known in advance (``*``, ``+``,
  ``~``, ``%``, ``str.format``, ``join``, ``replace``, ``indent``, ``wordwrap``, width
  arguments).
* **Work**: every loop iteration, call and filter is a step (at most :data:`MAX_STEPS`) and
  checks the deadline; all text made (written anywhere, including inside macros and blocks,
  and returned by filters, methods and operators) counts against ``WORK_FACTOR * max_chars``;
  macros nest at most :data:`MAX_CALL_DEPTH` deep.
* **Compiling** folds no constants (the optimizer is off, ``finalize`` needs the context,
  filters run only at render time) and lists cannot be changed in place (Jinja2's immutable
  sandbox), so nothing grows behind the checks' back. ``lipsum`` is gone.

A check that fails raises :class:`TemplateLimit` (a ``TemplateRuntimeError``, so the template
line is known).
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import time
import types
from collections.abc import ItemsView, Iterable, Iterator, KeysView, ValuesView
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from string import Formatter
from typing import Any

from jinja2 import StrictUndefined, TemplateRuntimeError, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

__all__ = [
    "MAX_CALL_DEPTH",
    "MAX_INT_BITS",
    "MAX_STEPS",
    "WORK_FACTOR",
    "Budget",
    "TemplateLimit",
    "UserSandbox",
    "budget_scope",
]

MAX_STEPS = 1_000_000
MAX_INT_BITS = 4096
MAX_CALL_DEPTH = 50
WORK_FACTOR = 10
# filters whose numeric arguments are widths or counts of what they make
_WIDTH_FILTERS = frozenset({"batch", "center", "indent", "round", "slice", "truncate", "wordwrap"})
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")
_SEQUENCES = (str, bytes, list, tuple)


class TemplateLimit(TemplateRuntimeError):
    """A user template went beyond a limit of the sandbox."""


@dataclass
class Budget:
    """What one render may still do (see the module docstring)."""

    deadline: float
    max_seconds: float
    max_chars: int
    steps: int = MAX_STEPS
    work: int = 0
    depth: int = 0

    def tick(self) -> None:
        """One step (a loop iteration, call or filter); checks the step count and the time."""
        self.steps -= 1
        if self.steps < 0:
            raise TemplateLimit(f"more than {MAX_STEPS} loop iterations, calls and filters")
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"rendering took longer than {self.max_seconds:g} s")

    def fits(self, size: int, what: str = "a value") -> None:
        """Refuse a value of ``size`` characters beyond the output limit."""
        if size > self.max_chars:
            raise TemplateLimit(f"{what} longer than {self.max_chars} characters")

    def spend(self, size: int) -> None:
        """Count ``size`` characters of text made."""
        self.work += size
        if self.work > WORK_FACTOR * self.max_chars:
            limit = WORK_FACTOR * self.max_chars
            raise TemplateLimit(f"the template makes more than {limit} characters of text")

    def made(self, value: Any) -> Any:
        """Check and count a value the template made; returns it."""
        if isinstance(value, (*_SEQUENCES, dict, Namespace)):
            size = size_of(value, self.max_chars)
            self.fits(size)
            self.spend(size)
        return value


_budget: ContextVar[Budget | None] = ContextVar("orga_template_budget", default=None)


@contextmanager
def budget_scope(max_seconds: float, max_chars: int) -> Iterator[Budget]:
    """The budget of one render (compile included), for the hooks of :class:`UserSandbox`."""
    budget = Budget(time.monotonic() + max_seconds, max_seconds, max_chars)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def _current() -> Budget:
    budget = _budget.get()
    if budget is None:
        raise RuntimeError("user templates render through core.templating.render_user_template")
    return budget


def size_of(value: Any, limit: int) -> int:
    """About how many characters ``value`` is as text (``str()``), counted up to ``limit``."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    total = 0
    seen: set[int] = set()
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item) + 2
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, (list, tuple, set, frozenset, KeysView, ValuesView, ItemsView)):
            if id(item) not in seen:
                seen.add(id(item))
                total += 2
                stack.extend(item)
        elif isinstance(item, dict):
            if id(item) not in seen:
                seen.add(id(item))
                total += 2
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, Namespace):
            stack.append(item._Namespace__attrs)  # what its repr shows
        else:
            total += 1
    return total


def _too_big_number(digits: str, limit: int) -> bool:
    return len(digits) > len(str(limit)) or int(digits) > limit


def _check_int_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise TemplateLimit(f"a number beyond {MAX_INT_BITS} bits (about 1,200 digits)")


def _check_binop(budget: Budget, operator: str, left: Any, right: Any) -> None:
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and ints:
        if right > 0 and abs(left) > 1:
            _check_int_bits((abs(left).bit_length() - 1) * right)
    elif operator == "*" and ints:
        _check_int_bits(left.bit_length() + right.bit_length())
    elif operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, _SEQUENCES) and isinstance(count, int) and count > 0:
                budget.fits(size_of(seq, budget.max_chars) * count)
    elif operator == "+" and ints:
        _check_int_bits(max(left.bit_length(), right.bit_length()) + 1)
    elif operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        budget.fits(size_of(left, budget.max_chars) + size_of(right, budget.max_chars))
    elif operator == "%" and isinstance(left, str):
        _check_percent(budget, left, right)


def _values(args: Any) -> Iterable[Any]:
    if isinstance(args, dict):
        return args.values()
    return args if isinstance(args, tuple) else (args,)


def _check_percent(budget: Budget, pattern: str, args: Any) -> None:
    """``pattern % args``: no ``*`` widths, and the result's size known in advance."""
    biggest = max((size_of(v, budget.max_chars) for v in _values(args)), default=0)
    total = len(pattern)
    for match in _PERCENT.finditer(pattern):
        if match.group(0) == "%%":
            continue
        widths = [g for g in match.groups() if g]
        if "*" in widths or any(_too_big_number(w, budget.max_chars) for w in widths):
            raise TemplateLimit("a format width beyond the output limit")
        total += max([biggest, *map(int, widths)])
        budget.fits(total, "formatted text")
    budget.fits(total, "formatted text")


def _check_brace_format(budget: Budget, pattern: str, args: Iterable[Any]) -> None:
    """``pattern.format(...)``: no nested fields in specs, the result's size known."""
    biggest = max((size_of(v, budget.max_chars) for v in args), default=0)
    total = len(pattern)
    for _text, name, spec, _conversion in Formatter().parse(pattern):
        if name is None:
            continue
        widths = _DIGITS.findall(spec or "")
        if "{" in (spec or "") or any(_too_big_number(w, budget.max_chars) for w in widths):
            raise TemplateLimit("a format width beyond the output limit")
        total += max([biggest, *map(int, widths)])
        budget.fits(total, "formatted text")
    budget.fits(total, "formatted text")


def _listed(budget: Budget, items: Iterable[Any], separator: Any) -> list[Any]:
    """The items of a join, taken one by one while the joined size stays within the limit."""
    taken: list[Any] = []
    total = 0
    step = len(separator) if isinstance(separator, (str, bytes)) else 1
    for item in items:
        total += size_of(item, budget.max_chars) + step
        budget.fits(total, "joined text")
        taken.append(item)
    return taken


def _text_estimate(name: str, s: Any, args: dict[str, Any]) -> int:
    """The size of what filter or method ``name`` makes from text ``s`` (0: not estimated)."""
    text = s if isinstance(s, (str, bytes)) else str(s)
    if name == "replace":
        old, new = args.get("old", ""), args.get("new", "")
        if isinstance(text, str):
            old, new = str(old), str(new)
        count = text.count(old)
        limit = args.get("count")
        if isinstance(limit, int) and limit >= 0:
            count = min(count, limit)
        return len(text) + count * max(0, len(new) - len(old))
    if name == "indent":
        width = args.get("width", 4)
        prefix = width if isinstance(width, int) else len(str(width))
        return len(text) + (text.count("\n") + 1) * prefix
    if name == "wordwrap":
        width = max(1, int(args.get("width", 79)))
        lines = len(text) // width + text.count("\n") + 1
        return len(text) + lines * len(args.get("wrapstring") or "\n")
    if name == "expandtabs":
        return len(text) + text.count("\t") * int(args.get("tabsize", 8))
    return 0


def _check_widths(budget: Budget, values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, int) and not -budget.max_chars <= value <= budget.max_chars:
            raise TemplateLimit("a width or count beyond the output limit")


def _guarded_filter(name: str, func: Any) -> Any:
    """``func`` behind the budget: a step, its width arguments and result size checked, the
    size of ``join``/``replace``/``indent``/``wordwrap``/``format`` known before it runs,
    ``sum`` for numbers only. Taking the context keeps the compiler from running it early."""
    passed = getattr(getattr(func, "jinja_pass_arg", None), "name", None)
    signature = inspect.signature(func)

    def guarded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _current()
        budget.tick()
        lead = {
            "context": (context,),
            "eval_context": (context.eval_ctx,),
            "environment": (context.environment,),
        }.get(passed or "", ())
        if name in _WIDTH_FILTERS:
            _check_widths(budget, [*args, *kwargs.values()])
        if name == "slice" and args and isinstance(args[0], int):
            budget.steps -= args[0]  # it makes that many lists, one step each
        if name in ("join", "replace", "indent", "wordwrap", "sum"):
            bound = signature.bind(*lead, value, *args, **kwargs).arguments
            if name == "join":
                value = _listed(budget, value, bound.get("d", ""))
            elif name == "sum" and not isinstance(bound.get("start", 0), (int, float)):
                raise TemplateLimit("sum adds numbers only")
            elif name != "sum":
                budget.fits(_text_estimate(name, value, bound))
        elif name == "format" and isinstance(value, str):
            _check_percent(budget, value, kwargs or args)
        return budget.made(func(*lead, value, *args, **kwargs))

    return pass_context(functools.wraps(func)(guarded))


class _GuardedCodeGenerator(CodeGenerator):
    """Compiles the budget checks into the template: loops count their iterations, literal
    lists and dicts and ``~`` are measured, constant text written counts as work."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        """Loop over ``environment.guard_loop(<iterable>)``, so every iteration is a step."""
        guard = nodes.EnvironmentAttribute("guard_loop", lineno=node.lineno)
        if not (isinstance(node.iter, nodes.Call) and node.iter.node == guard):
            node.iter = nodes.Call(guard, [node.iter], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Const(self, node: nodes.Const, frame: Frame) -> None:
        """Constants; an infinite float (``1e999``) as code that names it."""
        value = node.as_const(frame.eval_ctx)
        if isinstance(value, float) and not math.isfinite(value):
            self.write(f'float("{value}")')
        else:
            super().visit_Const(node, frame)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        """Count the constant text of an output statement each time it runs."""
        size = sum(len(c.data) for c in node.nodes if isinstance(c, nodes.TemplateData))
        if size:
            self.writeline(f"environment.spend_text({size})")
        super().visit_Output(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        """``a ~ b``: measured before it is joined."""
        self.write("environment.guard_concat(context, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _measured(self, visit: Any, node: nodes.Node, frame: Frame) -> None:
        self.write("environment.guard_value(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        """A list literal, measured."""
        self._measured(super().visit_List, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        """A dict literal, measured."""
        self._measured(super().visit_Dict, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        """A tuple literal (not an assignment target), measured."""
        if node.ctx == "load":
            self._measured(super().visit_Tuple, node, frame)
        else:
            super().visit_Tuple(node, frame)


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every ``{{ … }}``: measured before it becomes text, and counted."""
    budget = _current()
    size = size_of(value, budget.max_chars)
    budget.fits(size)
    budget.spend(size)
    return value


class UserSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with the budget checks of this module."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})
    code_generator_class = _GuardedCodeGenerator

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined, autoescape=False, optimized=False, finalize=_finalize
        )
        self.globals.pop("lipsum", None)
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``**``, ``*``, ``+`` and ``%`` with their results' sizes checked first."""
        budget = _current()
        _check_binop(budget, operator, left, right)
        return budget.made(super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """A call: a step, nesting depth, and for built-in methods (``str.center``, ``join``,
        ``replace``…) widths and sizes checked before, the result's size after."""
        budget = _current()
        budget.tick()
        if budget.depth >= MAX_CALL_DEPTH:
            raise TemplateLimit(f"calls nested deeper than {MAX_CALL_DEPTH}")
        if isinstance(obj, types.BuiltinMethodType):
            args = self._checked_builtin(budget, obj, args, kwargs)
        budget.depth += 1
        try:
            result = super().call(context, obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        return budget.made(result)

    @staticmethod
    def _checked_builtin(
        budget: Budget, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        owner, name = getattr(method, "__self__", None), method.__name__
        if isinstance(owner, (str, bytes)):
            if name == "translate":
                raise TemplateLimit("translate is not available in templates")
            if name == "join" and args:
                return (_listed(budget, args[0], owner), *args[1:])
            if name in ("replace", "expandtabs"):
                keys = ("old", "new", "count") if name == "replace" else ("tabsize",)
                named = dict(zip(keys, args, strict=False)) | kwargs
                budget.fits(_text_estimate(name, owner, named))
        _check_widths(budget, [*args, *kwargs.values()])
        return args

    def wrap_str_format(self, value: Any) -> Any:
        """``str.format``/``format_map``: the pattern's widths and the result's size checked
        before formatting."""
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        pattern = value.__self__
        is_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> Any:
            values = args[0].values() if is_map and args else [*args, *kwargs.values()]
            _check_brace_format(_current(), pattern, values)
            return formatter(*args, **kwargs)

        return checked

    def guard_loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """The items of a loop, one step each."""
        budget = _current()
        for item in iterable:
            budget.tick()
            yield item

    def guard_concat(self, context: Context, parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ …``, measured before it is joined."""
        budget = _current()
        budget.fits(sum(size_of(p, budget.max_chars) for p in parts))
        joined = markup_join(parts) if context.eval_ctx.autoescape else str_join(parts)
        return budget.made(joined)

    def guard_value(self, value: Any) -> Any:
        """A list, tuple or dict literal, measured."""
        budget = _current()
        budget.fits(size_of(value, budget.max_chars))
        return value

    def spend_text(self, size: int) -> None:
        """Constant text written (inside loops and macros it adds up)."""
        _current().spend(size)
