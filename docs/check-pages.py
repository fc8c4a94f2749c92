#!/usr/bin/env python3
"""The checks docs/check.sh makes on the pages' own text, where a script can see drift.

    docs/check-pages.py static                 snippets, tables of contents, epoll fds
    docs/check-pages.py logs LONE.err WORKERS.err
                                               log blocks against the rule below, and
                                               against real runs' logs
    docs/check-pages.py strace TRACE           the walkthrough's strace against a real one

Prints `ok: ...` for each check passed and `DRIFT: ...` (on stderr) for each failure;
exits 1 if any failed. Run from the repository's root.

The rules:

- Snippets. A ```rust block on a page is code taken from a file, and says which
  on the line before it: `<!-- from: src/reactor/driver.rs -->`. A line `// ...`
  marks lines left out; each piece between such lines must appear in the file as
  contiguous lines, leading indentation ignored.
- Tables of contents. The list of `[title](#anchor)` links before a page's first
  `## ` heading names every `## ` heading, in order, with GitHub's anchor for it.
- Log blocks. A ```text block of log lines (`[time LEVEL target] message`) is an
  excerpt of one run: it may start and end anywhere, but leaves no line out in
  between unless a line `...` marks the place. Without a `...`, a script can hold it
  to what every run does: each reactor's count of open connections goes up by one
  per `accepted` and down by one per `closed`; a connection is registered before
  its first event (unless the page has said, in a `<!-- log: mio's registering
  lines left out from here on -->` comment, that those lines are left out); and a
  block that shows the start (`listening on`) or the drain (`draining` to
  `stopped`) shows every kind of line a real run logs there.
- strace. The walkthrough's full trace has the same system calls, in the same
  order, as a real run of the same commands, and the same line prefix (a thread id,
  or none); architecture.md's `epoll_ctl` examples name the same epoll fd.
"""

import re
import sys
from collections import Counter

PAGES = ["docs/walkthrough.md", "docs/architecture.md"]
FAILED = False


def fail(message):
    global FAILED
    print(f"DRIFT: {message}", file=sys.stderr)
    FAILED = True


def ok(message):
    print(f"ok: {message}")


def blocks(path):
    """(language, first line number, lines, the comment lines just before) per fence."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\w*)$", lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while lines[j] != "```":
            j += 1
        k, before = i - 1, None
        while k >= 0 and lines[k].strip() == "":
            k -= 1
        if k >= 0 and lines[k].startswith("<!--"):
            before = lines[k]
        out.append((m.group(1), i + 1, lines[i + 1 : j], before))
        i = j + 1
    return out


def check_snippets():
    count = 0
    for page in PAGES:
        for lang, line, body, before in blocks(page):
            if lang != "rust":
                continue
            count += 1
            m = re.match(r"^<!-- from: (\S+) -->$", before or "")
            if not m:
                fail(f"{page}:{line}: a rust block without `<!-- from: FILE -->` before it")
                continue
            try:
                source = [l.strip() for l in open(m.group(1), encoding="utf-8")]
            except OSError as e:
                fail(f"{page}:{line}: {e}")
                continue
            pieces, piece = [], []
            for l in body:
                if l.strip() == "// ...":
                    pieces.append(piece)
                    piece = []
                else:
                    piece.append(l.strip())
            pieces.append(piece)
            for piece in (p for p in pieces if p):
                n = len(piece)
                if not any(source[k : k + n] == piece for k in range(len(source) - n + 1)):
                    fail(f"{page}:{line}: not in {m.group(1)} as shown:\n    | " + "\n    | ".join(piece))
    ok(f"{count} rust blocks are each taken from the file they name")


def slug(title):
    s = title.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def check_contents():
    for page in PAGES:
        lines = open(page, encoding="utf-8").read().split("\n")
        headings, toc, fence = [], [], False
        for l in lines:
            if l.startswith("```"):
                fence = not fence
            elif not fence and l.startswith("## "):
                headings.append(l[3:])
            elif not fence and not headings:
                m = re.match(r"^- \[(.*)\]\(#(.*)\)$", l)
                if m:
                    toc.append((m.group(1), m.group(2)))
        want = [(h, slug(h)) for h in headings]
        if toc == want:
            ok(f"{page}: the table of contents names its {len(want)} sections, in order")
        else:
            fail(f"{page}: the table of contents and the ## headings differ")
            for t, w in zip(toc + [None] * len(want), want + [None] * len(toc)):
                if t != w:
                    print(f"    | contents: {t}\n    | heading:  {w}", file=sys.stderr)


def first_strace_block(page):
    for lang, line, body, _ in blocks(page):
        if lang == "text" and body and re.match(r"^(\d+ +)?(socket|epoll_ctl)\(", body[0]):
            return line, body
    return None, []


def check_epoll_fds():
    _, body = first_strace_block("docs/walkthrough.md")
    fds = {m.group(1) for l in body for m in [re.search(r"epoll_\w+\((\d+),", l)] if m}
    arch = {m.group(1) for l in open("docs/architecture.md", encoding="utf-8")
            for m in [re.search(r"epoll_ctl\((\d+),", l)] if m}
    if len(fds) == 1 and arch <= fds:
        ok(f"epoll is fd {fds.pop()} in the walkthrough's strace and architecture.md's examples")
    else:
        fail(f"epoll fds differ: walkthrough {sorted(fds)}, architecture.md {sorted(arch)}")


LOG = re.compile(r"^\[(?:\S+ )?(TRACE|DEBUG|INFO |WARN |ERROR) (\S+)\] (.*)$")


def shape(message):
    """A log line with what varies from run to run made alike."""
    m = LOG.match(message)
    text = f"{m.group(1)} {m.group(2)}] {m.group(3)}" if m else message
    text = re.sub(r"SIG(INT|TERM)", "SIG", text)
    text = re.sub(r"responses: [^,]*,", "responses: ...,", text)
    return re.sub(r"\d+", "N", text)


def log_blocks():
    """(line, body, registering lines left out?) for each log block of the walkthrough."""
    out, left_out = [], False
    text = open("docs/walkthrough.md", encoding="utf-8").read().split("\n")
    markers = {i + 1: l for i, l in enumerate(text) if l.startswith("<!-- log:")}
    for lang, line, body, _ in blocks("docs/walkthrough.md"):
        for at in sorted(markers):
            if at < line:
                left_out = "left out" in markers[at]
        logs = [l for l in body if LOG.match(l)]
        if lang in ("text", "console") and logs:
            out.append((line, body, left_out))
    return out


def check_logs(lone_err, workers_err):
    real = {
        False: open(lone_err, encoding="utf-8").read().split("\n"),
        True: open(workers_err, encoding="utf-8").read().split("\n"),
    }
    checked = 0
    for line, body, left_out in log_blocks():
        if "..." in (l.strip() for l in body):
            continue
        checked += 1
        where = f"docs/walkthrough.md:{line}"
        open_now, pending = {}, set()
        for l in body:
            m = LOG.match(l)
            if not m:
                continue
            msg = m.group(3)
            r = re.search(r"^registering event source with poller: token=Token\((\d+)\)", msg)
            if r:
                pending = {p for p in pending if p.split(" ")[-1] != r.group(1)}
            c = re.match(r"^(w\d+ )?conn (\d+): (.*)$", msg)
            if not c:
                continue
            worker, key, rest = c.group(1) or "", c.group(2), c.group(3)
            n = re.search(r"(accepted from \S+|closed) \((\d+) open\)$", rest)
            if n:
                count, step = int(n.group(2)), 1 if rest.startswith("accepted") else -1
                if worker in open_now and count != open_now[worker] + step:
                    fail(f"{where}: `{msg}` after {open_now[worker]} open: a line is left out without `...`")
                open_now[worker] = count
            if rest.startswith("accepted from"):
                pending.add(f"{worker} {key}")
            elif rest.startswith("closed") and "::accept]" in l:
                pending.discard(f"{worker} {key}")
            elif rest.startswith("event:") and f"{worker} {key}" in pending and not left_out:
                fail(f"{where}: conn {key} has an event but no `registering` line: left out without `...`")
        workers = any(re.search(r"\] w\d+ ", l) for l in body)
        shapes = Counter(shape(l) for l in body)
        run = real[workers]
        spans = []
        if any("listening on" in l for l in body):
            end = next(i for i, l in enumerate(run) if "listening on" in l)
            spans.append(("the start", run[: end + 1]))
        if any(" draining" in l for l in body) and any("] stopped: " in l or "] w1 stopped" in l for l in body):
            start = next(i for i, l in enumerate(run) if l.endswith(": draining"))
            stop = max(i for i, l in enumerate(run) if "stopped: " in l)
            spans.append(("the drain", run[start : stop + 1]))
        for what, span in spans:
            need = Counter(shape(l) for l in span if LOG.match(l))
            missing = [l for l in span if LOG.match(l) and need[shape(l)] > shapes[shape(l)]]
            if missing:
                fail(f"{where} shows {what} without these lines a real run logs there, and no `...`:\n    | "
                     + "\n    | ".join(missing))
    ok(f"{checked} log blocks without `...` hold together as excerpts of one run")


def calls(lines):
    return [m.group(2) for l in lines for m in [re.match(r"^(\d+ +)?([a-z_0-9]+\(|---|\+\+\+)", l)] if m]


def check_strace(trace):
    line, body = first_strace_block("docs/walkthrough.md")
    real = open(trace, encoding="utf-8").read().rstrip("\n").split("\n")
    prefixed = lambda ls: any(re.match(r"^\d+ +", l) for l in ls)
    if prefixed(body) != prefixed(real):
        fail(f"docs/walkthrough.md:{line}: its strace lines {'have' if prefixed(body) else 'lack'} a thread-id prefix; a real run's do not agree")
    else:
        ok("strace: the page's line prefix is what strace prints")
    if calls(body) == calls(real):
        ok(f"strace: the page's {len(body)} calls are a real run's, in order")
    else:
        fail(f"docs/walkthrough.md:{line}: the strace differs from a real run's calls:\n    | page: "
             + " ".join(calls(body)) + "\n    | run:  " + " ".join(calls(real)))


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "static"
    if what == "static":
        check_snippets()
        check_contents()
        check_epoll_fds()
    elif what == "logs":
        check_logs(sys.argv[2], sys.argv[3])
    elif what == "strace":
        check_strace(sys.argv[2])
    sys.exit(1 if FAILED else 0)
