"""Griffe extensions for the API reference.

`NamespacePortions` documents `somegrad` as the one package it is at run time.

`somegrad` is a single import package spread over several distributions: the core ships
`somegrad/__init__.py` (which extends `__path__` with pkgutil) and somegrad-nn and somegrad-train
add `somegrad.nn`, `somegrad.optim`, `somegrad.data` and `somegrad.train` from their own `src/`
folders, with no `__init__.py` of their own. Griffe reads sources statically and stops at the
first folder that has an `__init__.py`, so it would only see the core. Once the core is loaded,
`NamespacePortions` loads the other folders' subpackages and attaches them to it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[2]


class NamespacePortions(griffe.Extension):
    """Attach the subpackages found under `<path>/<package>/` for each of `paths`."""

    def __init__(self, package: str = "somegrad", paths: list[str] | None = None) -> None:
        self.package = package
        self.paths = [ROOT / p for p in (paths or [])]

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.path != self.package:
            return
        # With no `__init__.py` in these folders, griffe sees them as one native namespace
        # package; its members are the subpackages to attach. They share the modules
        # collection, so that their imports from the core (`from somegrad.ops.nn import
        # linear`) resolve; the core package steps aside while the namespace loads under
        # the same name.
        collection = loader.modules_collection
        collection.del_member(self.package)
        portions = griffe.GriffeLoader(
            search_paths=self.paths,
            docstring_parser=loader.docstring_parser,
            docstring_options=loader.docstring_options,
            modules_collection=collection,
            lines_collection=loader.lines_collection,
        )
        namespace = portions.load(self.package, try_relative_path=False)
        collection.set_member(self.package, pkg)
        for name, module in namespace.members.items():
            existing = pkg.members.get(name)
            if existing is not None:
                # a package both sides contribute to (`somegrad.utils`: the core's checkpoint,
                # train's data): attach the portion's subpackages to the core's package
                for subname, submodule in module.members.items():
                    existing.set_member(subname, submodule)
            else:
                pkg.set_member(name, module)


class PlainTextMarkup(griffe.Extension):
    """Make the docstrings' plain-text conventions survive Markdown.

    * reStructuredText roles (:class:`History`, :func:`~somegrad.train.fit`) become inline code;
    * the `*` of a shape, as in `(*, in_features)` or `(N, C, *)`, is escaped, where Markdown
      would read two of them as emphasis. Code spans and indented code examples are left alone.
    """

    ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj):`~?([^`]+)`")
    SHAPE_STAR = re.compile(r"(?<=[(,\s])\*(?=[,)])")
    CODE_SPAN = re.compile(r"(`+).+?(?<!`)\1(?!`)", re.S)

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = self.markdown(obj.docstring.value)

    def markdown(self, text: str) -> str:
        text = self.ROLE.sub(r"`\1`", text)
        blocks: list[tuple[bool, list[str]]] = []  # (is code, lines)
        in_code = False
        for line in text.split("\n"):
            # An indented code example starts after a blank line (an indented line right after
            # text continues it, as in an "Args:" section) and runs while lines stay indented.
            after_blank = not blocks or not blocks[-1][1][-1].strip()
            in_code = line.startswith("    ") and (in_code or after_blank)
            if blocks and blocks[-1][0] == in_code:
                blocks[-1][1].append(line)
            else:
                blocks.append((in_code, [line]))
        return "\n".join(
            "\n".join(lines) if is_code else self.escape_shape_stars("\n".join(lines)) for is_code, lines in blocks
        )

    def escape_shape_stars(self, prose: str) -> str:
        pieces, start = [], 0
        for span in self.CODE_SPAN.finditer(prose):
            pieces += [self.SHAPE_STAR.sub(r"\\*", prose[start : span.start()]), span.group()]
            start = span.end()
        pieces.append(self.SHAPE_STAR.sub(r"\\*", prose[start:]))
        return "".join(pieces)
