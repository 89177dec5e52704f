#!/usr/bin/env python3
"""Lists import cycles between the modules of a crate (default: shared/src).

A module is a source file; an edge A -> B means A names `crate::b::...` (in a `use`
or a path) or, from inside a folder module, `super::b`. Cycles are the strongly
connected components with more than one module. Exits 1 when there is a cycle.

Usage: scripts/module_cycles.py [SRC_DIR]
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "shared", "src")
root = os.path.normpath(root)


def module_of(path):
    rel = os.path.relpath(path, root)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts) or "crate"


modules = {}
for dirpath, _, files in os.walk(root):
    for f in files:
        if f.endswith(".rs"):
            p = os.path.join(dirpath, f)
            modules[module_of(p)] = p


def resolve(path_parts):
    """The longest known module that prefixes path_parts."""
    for n in range(len(path_parts), 0, -1):
        cand = "::".join(path_parts[:n])
        if cand in modules:
            return cand
    return None


def strip_tests(src):
    # Test modules may import anything; they are not part of the layering.
    i = src.find("#[cfg(test)]")
    return src if i < 0 else src[:i]


edges = {m: set() for m in modules}
path_re = re.compile(r"\b(crate|super)((?:::\w+)+)")
group_re = re.compile(r"\b(crate|super)((?:::\w+)*)::\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", re.S)
for m, p in modules.items():
    src = strip_tests(open(p, encoding="utf-8").read())
    src = re.sub(r"//[^\n]*", "", src)
    base = m.split("::") if m != "crate" else []
    targets = []
    for g in group_re.finditer(src):
        for item in re.split(r",\s*(?![^{]*\})", g.group(3)):
            item = item.strip().split(" as ")[0]
            first = re.split(r"::|\{", item)[0].strip()
            if first:
                targets.append((g.group(1), g.group(2) + "::" + first))
    for r in path_re.finditer(src):
        targets.append((r.group(1), r.group(2)))
    for kind, rest in targets:
        parts = [x for x in rest.split("::") if x]
        if kind == "crate":
            full = parts
        else:
            # `super` is the parent of the module, for a file and for a folder's mod.rs.
            full = base[:-1]
            while parts and parts[0] == "super":
                full, parts = full[:-1], parts[1:]
            full = full + parts
        t = resolve(full)
        if t and t != m and not m.startswith(t + "::") and t != "crate":
            edges[m].add(t)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))


for v in sorted(modules):
    if v not in index:
        visit(v)

print(f"{len(modules)} modules, {sum(len(e) for e in edges.values())} imports between them")
if not sccs:
    print("no import cycle")
    sys.exit(0)
for comp in sccs:
    inner = [f"{a} -> {b}" for a in comp for b in sorted(edges[a]) if b in comp]
    print(f"cycle of {len(comp)} modules: {', '.join(comp)}")
    for e in inner:
        print(f"  {e}")
sys.exit(1)
