#!/usr/bin/env python3
"""console_dom.py - read what chromium --dump-dom gave of a churnwatch console page
(tests/integration/console_browser.sh).

  console_dom.py accounts FILE   the accounts page as JSON: rows [{id, score, grade, alerts}]
                                 (ids from their links, URL-decoded: the exact id), counts
                                 per grade, the next page's link, the scored total
  console_dom.py account FILE    one account's page as JSON: id (as shown), chart points and
                                 their days, score, grade, thresholds, measures, alert rules,
                                 recent episodes [{resolved, rule, severity, started, lasted,
                                 alert_id}] as shown
  console_dom.py rules FILE      the rules page as JSON: accounts scanned, firing per rule,
                                 latest resolutions (as episodes, with their account)
  console_dom.py inert FILE ID   exit 1 unless the page holds no script, no event handler
                                 attribute, no element but the console's own, no raw bidi
                                 control, and (an account page) shows ID escaped
"""
import json
import sys
import urllib.parse
from html.parser import HTMLParser

BIDI = {0x061C, 0x200E, 0x200F, 0x2028, 0x2029} | set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
# every element the console's pages are made of
OWN = {"html", "head", "meta", "title", "link", "body", "header", "span", "nav", "a", "main",
       "h1", "h2", "h3", "small", "p", "b", "ul", "li", "form", "label", "input", "select",
       "option", "button", "table", "thead", "tbody", "tr", "th", "td", "section", "div",
       "svg", "rect", "text", "line", "polyline", "circle", "title", "footer", "code"}


def display(s):
    """What the console shows of s (cw_escape_display, then HTML: the DOM's text)."""
    out = []
    for ch in s:
        c = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif c < 0x20 or c == 0x7F:
            out.append("\\x%02x" % c)
        elif 0x80 <= c <= 0x9F or c in BIDI:
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    return "".join(out)


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, attrs) of the open elements
        self.elements = []  # (tag, attrs, path) of every start tag
        self.texts = {}  # id -> text of elements with an id (and their descendants)
        self.capture = []  # open elements with an id: [id, text]
        self.rows = []  # accounts/rules table rows: list of cells, each {text, attrs, links}
        self.cell = None
        self.row = None
        self.table = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, attrs, [t for t, _ in self.stack]))
        if tag not in ("meta", "link", "input", "br"):
            self.stack.append((tag, a))
        if "id" in a and tag not in ("meta", "link", "input"):
            self.capture.append([a["id"], "", len(self.stack)])
        if tag == "table":
            self.table = a.get("id")
        elif tag == "tr" and self.table:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = {"text": "", "attrs": a, "links": []}
        elif tag == "a" and self.cell is not None:
            self.cell["links"].append(a.get("href", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append((self.table, self.row))
            self.row = None
        elif tag == "table":
            self.table = None
        while self.stack:
            t, _ = self.stack.pop()
            while self.capture and self.capture[-1][2] > len(self.stack):
                i, text, _ = self.capture.pop()
                self.texts[i] = text
            if t == tag:
                break

    def handle_data(self, data):
        for c in self.capture:
            c[1] += data
        if self.cell is not None:
            self.cell["text"] += data


def parse(path):
    p = Page()
    p.feed(open(path, encoding="utf-8").read())
    return p


def attr_of(p, tag, cls=None, name=None):
    for t, attrs, _ in p.elements:
        a = dict(attrs)
        if t == tag and (cls is None or cls in a.get("class", "").split()):
            yield a if name is None else a.get(name)


def accounts(p):
    rows = []
    for table, cells in p.rows:
        if table != "accounts" or not cells or not cells[0]["links"]:
            continue
        href = cells[0]["links"][0]
        acct = urllib.parse.unquote(href.split("id=", 1)[1])
        alerts = cells[-1]["text"].split()
        rows.append({"id": acct, "score": cells[1]["text"].strip(), "grade": cells[2]["text"].strip(),
                     "alerts": [] if alerts == ["-"] else alerts})
    counts = {}
    seq = [(t, dict(attrs)) for t, attrs, path in p.elements if "li" in path]
    last = None
    for t, a in seq:
        if t == "span" and "grade" in a.get("class", ""):
            last = [c for c in a["class"].split() if c.startswith("g-")][0][2:]
        elif t == "b" and "data-grade-count" in a:
            counts[last] = a["data-grade-count"]
    nxt = [a.get("href") for t, attrs, _ in p.elements for a in [dict(attrs)]
           if t == "a" and a.get("rel") == "next"]
    return {"rows": rows, "counts": counts, "next": nxt[0] if nxt else None,
            "scored": p.texts.get("n-scored", "").strip()}


EPISODE_CELLS = ("resolved", "rule", "severity", "started", "lasted", "alert_id")


def episodes(p, table_id):
    """The rows of an episodes table (console_episodes.c), the account from its link."""
    out = []
    for table, cells in p.rows:
        if table != table_id or len(cells) < len(EPISODE_CELLS) or cells[0]["text"] == "Resolved":
            continue
        ep = {k: cells[i]["text"].strip() for i, k in enumerate(EPISODE_CELLS)}
        if len(cells) > len(EPISODE_CELLS) and cells[-1]["links"]:
            ep["account"] = urllib.parse.unquote(cells[-1]["links"][0].split("id=", 1)[1])
        out.append(ep)
    return out


def account(p):
    pts = [dict(a)["data-day"] for t, a, path in p.elements
           if t == "circle" and "pt" in dict(a).get("class", "").split()]
    alert_rules = []
    for table, cells in p.rows:
        if table == "alerts" and cells and cells[0]["attrs"] == {} and cells[0]["text"] != "Rule":
            alert_rules.append(cells[0]["text"].replace(" (opportunity)", "").strip())
    return {"id": p.texts.get("account-id", ""), "points": len(pts), "point_days": pts,
            "score": p.texts.get("score", "").strip(), "grade": p.texts.get("grade", "").strip(),
            "thresholds": sum(1 for t, a, _ in p.elements
                              if t == "line" and dict(a).get("class") == "threshold"),
            "measures": sum(1 for t, a, _ in p.elements
                            if t == "td" and dict(a).get("class") == "measure"),
            "alert_rules": alert_rules, "episodes": episodes(p, "episodes")}


def rules(p):
    firing = {}
    for table, cells in p.rows:
        if table != "rules" or len(cells) < 4 or cells[0]["text"] == "Rule":
            continue
        firing[cells[0]["text"].strip()] = int(cells[2]["text"])
    return {"scanned": int(p.texts.get("rules-scanned", "-1")), "firing": firing,
            "resolved": episodes(p, "resolved")}


def inert(path, acct):
    text = open(path, encoding="utf-8").read()
    p = parse(path)
    problems = []
    for t, attrs, stack in p.elements:
        if t == "script":
            problems.append("a <script> element")
        if t not in OWN:
            problems.append(f"an element <{t}> the console never writes")
        if t == "svg" and dict(attrs).get("class") != "chart":
            problems.append("an <svg> that is not the chart")
        for k, _ in attrs:
            if k.lower().startswith("on"):
                problems.append(f"an event handler attribute {k} on <{t}>")
    for c in BIDI:
        if chr(c) in text:
            problems.append("a raw U+%04X" % c)
    if "account-id" in p.texts and p.texts["account-id"] != display(acct):
        problems.append(f"the id shows as {p.texts['account-id']!r}, not {display(acct)!r}")
    if "account-id" not in p.texts and display(acct) not in text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"):
        problems.append(f"{display(acct)!r} is not on the page")
    for pr in problems:
        print(f"FAIL: {path}: {pr}")
    return not problems


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "inert":
        sys.exit(0 if inert(path, sys.argv[3]) else 1)
    page = parse(path)
    print(json.dumps({"accounts": accounts, "account": account, "rules": rules}[mode](page)))


if __name__ == "__main__":
    main()
