#!/usr/bin/env python3
"""backtest_dom.py - read what chromium --dump-dom gave of `churnwatch backtest --html`'s
page (tests/integration/backtest_browser.sh).

  backtest_dom.py FILE   the page as JSON: sections (ids), plots ({id: bars}: the plot's
                         <rect> elements with a <title>, i.e. its bars), tables (each
                         table's rows as lists of cell texts, header row first, keyed by
                         "SECTION" or "SECTION.CLASS" or its id, a key met again getting
                         "#2", "#3"...), elements (tag names used), external (every
                         reference to something outside the page: src, href, srcset,
                         action, data, poster, xlink:href... not to a #fragment; CSS url()
                         and @import), scripts (script elements and on* attributes)
"""
import html
import json
import re
import sys

from console_dom import Page

REFS = {"src", "href", "srcset", "action", "data", "poster", "xlink:href", "formaction",
        "background", "ping"}


def read(path):
    text = open(path, encoding="utf-8").read()
    p = Page()
    p.feed(text)
    p.close()
    out = {"sections": [], "plots": {},
           "elements": sorted({t for t, _, _ in p.elements}), "external": [], "scripts": []}
    plot = None
    for tag, attrs, path in p.elements:
        a = dict(attrs)
        if tag == "section" and "id" in a:
            out["sections"].append(a["id"])
        if tag == "svg" and "plot" in (a.get("class") or "").split():
            plot = a.get("id", "")
            out["plots"][plot] = 0
        elif tag == "title" and "rect" in path and "svg" in path and plot is not None:
            out["plots"][plot] += 1
        if tag == "script":
            out["scripts"].append(tag)
        for k, v in attrs:
            if k.startswith("on"):
                out["scripts"].append(f"{tag} {k}")
            if k in REFS and not (v or "").startswith("#"):
                out["external"].append(f"{tag} {k}={v}")
    for style in re.findall(r"<style[^>]*>(.*?)</style>", text, re.S) + \
            re.findall(r'style="([^"]*)"', text):
        for ref in re.findall(r"url\([^)]*\)|@import[^;]*", style):
            out["external"].append(f"style {ref}")
    out["tables"] = tables(text)
    return out


def cells_of(tr):
    return [html.unescape(re.sub(r"<[^>]*>", "", c)).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]


def tables(text):
    """Every table of the page by its section (and class or id)."""
    out = {}
    for sid, body in re.findall(r'<section id="([^"]*)">(.*?)</section>', text, re.S):
        for attrs, rows in re.findall(r"<table([^>]*)>(.*?)</table>", body, re.S):
            m = re.search(r'(?:id|class)="([^"]*)"', attrs)
            key = f"{sid}.{m.group(1)}" if m else sid
            k, n = key, 1
            while k in out:
                n += 1
                k = f"{key}#{n}"
            out[k] = [cells_of(tr) for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", rows, re.S)]
    return out


def main():
    json.dump(read(sys.argv[1]), sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
