#!/usr/bin/env python3
"""Where a TU's compile time goes, from clang's -ftime-trace JSON (build_cost.sh writes them
with BUILD_COST_TRACE=dir CXX=clang++): the phases, the headers by library (time spent parsing
them, counted once at the outermost include of each library), and the costliest templates
(instantiation time summed over every specialization of one name).

    benchmarks/time_trace_summary.py trace.json [--top N]
"""
import argparse
import collections
import json
import re


def library(path):
    """The library a header belongs to: boost/asio, boost/beast, alation/auth, openssl, std..."""
    for prefix in ("alation/auth/detail", "alation/auth/testing", "alation/auth"):
        if f"{prefix}/" in path or path.endswith(f"{prefix}.hpp"):
            return prefix
    m = re.search(r"/usr/include/(boost/[a-z_0-9]+)/", path)
    if m:
        return m.group(1)
    if "/openssl/" in path:
        return "openssl"
    if "/c++/" in path:
        return "std"
    return "other"


def template_name(detail):
    """`boost::asio::foo<int, ...>::bar<x>` -> `boost::asio::foo<>::bar<>`"""
    out, depth = [], 0
    for ch in detail:
        if ch == "<":
            if depth == 0:
                out.append("<>")
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("trace")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    events = [e for e in json.load(open(args.trace))["traceEvents"] if e.get("ph") == "X"]

    totals = {e["name"][len("Total "):]: e["dur"] for e in events if e["name"].startswith("Total ")}
    print(f"## {args.trace}\n")
    print("| phase | s |\n|---|---:|")
    for phase in ("ExecuteCompiler", "Frontend", "Source", "PerformPendingInstantiations", "InstantiateFunction",
                  "InstantiateClass", "CodeGen Function", "Backend", "Optimizer", "CodeGenPasses"):
        if phase in totals:
            print(f"| {phase} | {totals[phase] / 1e6:.2f} |")

    # Parsing, by library: a Source event nested inside one of the same library is not counted again.
    sources = sorted((e for e in events if e["name"] == "Source"), key=lambda e: (e["ts"], -e["dur"]))
    by_library = collections.Counter()
    open_spans = []  # (end, library) of the Source events enclosing the current one
    for e in sources:
        while open_spans and open_spans[-1][0] <= e["ts"]:
            open_spans.pop()
        lib = library(e["args"]["detail"])
        if not any(l == lib for _, l in open_spans):
            by_library[lib] += e["dur"]
        open_spans.append((e["ts"] + e["dur"], lib))
    # A library's figure includes what its headers include (nested libraries are counted in both).
    print("\n| headers of | parse s (outermost include, inclusive) |\n|---|---:|")
    for lib, dur in by_library.most_common(args.top):
        print(f"| {lib} | {dur / 1e6:.2f} |")

    # Templates: time of the outermost instantiations, by template name.
    insts = sorted((e for e in events if e["name"] in ("InstantiateFunction", "InstantiateClass")),
                   key=lambda e: (e["ts"], -e["dur"]))
    by_template = collections.Counter()
    end = -1
    for e in insts:
        if e["ts"] >= end:
            by_template[template_name(e["args"]["detail"])] += e["dur"]
            end = e["ts"] + e["dur"]
    print("\n| template (outermost instantiations) | s |\n|---|---:|")
    for name, dur in by_template.most_common(args.top):
        print(f"| `{name[:110]}` | {dur / 1e6:.2f} |")

    # Code generation and optimisation, by function.
    funcs = collections.Counter()
    for e in events:
        if e["name"] in ("OptFunction", "CodeGen Function") and "detail" in e.get("args", {}):
            funcs[template_name(e["args"]["detail"])] += e["dur"]
    if funcs:
        print("\n| function (code generation and optimisation) | s |\n|---|---:|")
        for name, dur in funcs.most_common(args.top):
            print(f"| `{name[:110]}` | {dur / 1e6:.2f} |")


if __name__ == "__main__":
    main()
