"""`tutor class report`: per learner and per misconception, read from every learner's own
progress store: in the class directory (``DIR/learners/NAME``, the store the learner's tutor
writes) or, for a class with a database (``--db``), the learner's rows there, written by their
tutors on every host. Read here through :class:`tutor.progress.Progress`'s read methods only
(:func:`tutor.progress.open_store` picks the backend), so the store's schema is the store's
business.

:func:`learner_summary` is the part the live view shares; :func:`class_report` the whole.
"""

from __future__ import annotations

import csv
import io
import json
import sys

from tutor.misconceptions import CATALOGUE
from tutor.progress import DB_NAME, LessonState, Progress, open_store, tag_summary
from tutor.serve.live import connected
from tutor.serve.roster import ClassDir

__all__ = [
    "STUCK_IDLE_S",
    "STUCK_WRONG",
    "class_report",
    "connected",
    "learner_summary",
    "run_report",
    "watch_view",
]

STUCK_WRONG = 3  # wrong tries in a row on one part, with no right answer since: "looks stuck"
STUCK_IDLE_S = 300.0  # this long without a key, in a quiz: "looks stuck" too


def _part(catalog, lesson_id: str, block_id) -> dict:
    """Where a block is, for a teacher: its part number in the lesson (its id when the lesson
    no longer has it, or cannot be read)."""
    lesson = catalog.get(lesson_id) if catalog is not None else None
    parts = len(lesson.blocks) if lesson is not None else None
    part = next((b.index + 1 for b in lesson.blocks if b.id == block_id), block_id) if lesson else block_id
    return {"lesson": lesson_id, "title": lesson.title if lesson else lesson_id, "part": part, "parts": parts}


def learner_summary(progress: Progress, catalog) -> dict:
    """One learner's figures from their store (see :func:`class_report` for the keys)."""
    ids = progress.lesson_ids()
    states = {i: progress.state(i) for i in ids}
    attempts = progress.attempts()
    last_seen = {}
    for a in attempts:
        last_seen[a.lesson_id] = a.timestamp
    in_progress = [i for i in ids if states[i] is LessonState.IN_PROGRESS]
    now = None
    if in_progress:
        # the lesson answered in most recently, else the one started last
        current = max(in_progress, key=lambda i: (last_seen.get(i, ""), ids.index(i)))
        now = _part(catalog, current, progress.position(current))
    first: dict[tuple, bool] = {}
    streak: dict[tuple, int] = {}  # wrong tries since the last right one, per part
    for a in attempts:
        key = (a.lesson_id, a.block_id)
        first.setdefault(key, a.correct)
        streak[key] = 0 if a.correct else streak.get(key, 0) + 1
    right_first = sum(1 for ok in first.values() if ok)
    tags = tag_summary(attempts)
    for entry in tags:
        known = CATALOGUE.get(entry["tag"])
        entry["title"] = known.title if known else ""
    stuck = [
        _part(catalog, lid, block) | {"wrong_in_a_row": n}
        for (lid, block), n in streak.items()
        if n >= STUCK_WRONG
    ]
    return {
        "lessons_done": [i for i in ids if states[i] is LessonState.DONE],
        "lessons_started": ids,
        "now": now,
        "attempts": len(attempts),
        "parts_answered": len(first),
        "right_first_try": right_first,
        "first_try_rate": round(right_first / len(first), 3) if first else None,
        "misconceptions": tags,
        "stuck_on": stuck,
        "answers": [
            {
                "lesson": a.lesson_id,
                "block": a.block_id,
                "answer": a.answer,
                "correct": a.correct,
                "tags": list(a.tags),
                "at": a.timestamp,
            }
            for a in attempts
        ],
        "last_answer_at": attempts[-1].timestamp if attempts else None,
    }


def watch_view(cls: ClassDir, catalog, stores: dict[str, Progress], now: float) -> dict:
    """What `tutor class watch` shows: a row per learner (connected first) and the
    misconceptions per lesson. ``stores`` caches each learner's open store between calls."""
    online = connected(cls)
    rows, per_lesson = [], {}
    for name, progress in _stores(cls, stores).items():
        summary = learner_summary(progress, catalog)
        live = online.get(name)
        idle = now - live["last_key"] if live else None
        now_part = summary["now"]
        kind = ""
        lesson = catalog.get(now_part["lesson"]) if (now_part and catalog is not None) else None
        if (
            lesson is not None
            and isinstance(now_part["part"], int)
            and 0 < now_part["part"] <= len(lesson.blocks)
        ):
            kind = lesson.blocks[now_part["part"] - 1].kind
        why = []
        if summary["stuck_on"]:
            s = summary["stuck_on"][0]
            here = now_part and (now_part["lesson"], now_part["part"]) == (s["lesson"], s["part"])
            where = "" if here else f" ({s['lesson']} part {s['part']})"
            why.append(f"{s['wrong_in_a_row']} wrong in a row{where}")
        if idle is not None and idle >= STUCK_IDLE_S and kind == "quiz":
            why.append(f"idle {idle / 60:.0f} min in a quiz")
        for answer in summary["answers"]:
            if answer["tags"]:
                per_lesson[answer["lesson"]] = per_lesson.get(answer["lesson"], 0) + len(answer["tags"])
        hosts = live.get("hosts", []) if live else []
        rows.append(
            {"name": name, "online": live is not None, "hosts": hosts, "idle": idle, "stuck": why} | summary
        )
    rows.sort(key=lambda r: (not r["online"], r["name"]))
    return {
        "learners": rows,
        "misconceptions_per_lesson": dict(sorted(per_lesson.items(), key=lambda kv: -kv[1])),
    }


def _stores(cls: ClassDir, stores: dict[str, Progress]) -> dict[str, Progress]:
    """Each learner's store that has anything in it, by name (opened into ``stores`` once)."""
    if cls.db is None:
        for name, home in cls.learner_dirs().items():
            if name not in stores and (home / DB_NAME).exists():
                stores[name] = Progress(home)
        return {name: stores[name] for name in sorted(stores)}
    for name in cls.roster().names():
        if name not in stores:
            stores[name] = open_store(cls.db, None, name)
    return {name: p for name, p in sorted(stores.items()) if p.lesson_ids() or p.attempts()}


def class_report(cls: ClassDir, catalog=None) -> dict:
    """``{"class_dir", "learners": [{"name", "enrolled", "connected", ...learner_summary}],
    "misconceptions": [{"tag", "title", "learners": [{"name", "hits", "resolved"}]}]}``.
    A learner who never connected has no store yet and is listed with ``"connected": False``."""
    roster = cls.roster().learners()
    stores: dict[str, Progress] = {}
    try:
        found = _stores(cls, stores)
        learners, by_tag = [], {}
        for name in sorted(set(roster) | set(found)):
            row = {"name": name, "enrolled": name in roster, "connected": False}
            if name in found:
                row |= {"connected": True} | learner_summary(found[name], catalog)
                for entry in row["misconceptions"]:
                    tag = by_tag.setdefault(
                        entry["tag"], {"tag": entry["tag"], "title": entry["title"], "learners": []}
                    )
                    tag["learners"].append(
                        {"name": name, "hits": entry["hits"], "resolved": entry["resolved"]}
                    )
            learners.append(row)
    finally:
        for progress in stores.values():
            progress.close()
    tags = sorted(by_tag.values(), key=lambda t: (-sum(x["hits"] for x in t["learners"]), t["tag"]))
    return {"class_dir": str(cls.path), "learners": learners, "misconceptions": tags}


CSV_FIELDS = [
    "learner",
    "lessons_done",
    "now_lesson",
    "now_part",
    "attempts",
    "first_try_rate",
    "misconception",
    "hits",
    "resolved",
]


def to_csv(report: dict) -> str:
    """One row per learner and misconception they hit (one row with the tag empty if none)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in report["learners"]:
        now = row.get("now") or {}
        base = {
            "learner": row["name"],
            "lessons_done": len(row.get("lessons_done", [])),
            "now_lesson": now.get("lesson", ""),
            "now_part": now.get("part", ""),
            "attempts": row.get("attempts", 0),
            "first_try_rate": "" if row.get("first_try_rate") is None else row["first_try_rate"],
        }
        tags = row.get("misconceptions") or [None]
        for tag in tags:
            extra = {"misconception": "", "hits": "", "resolved": ""}
            if tag is not None:
                extra = {
                    "misconception": tag["tag"],
                    "hits": tag["hits"],
                    "resolved": "yes" if tag["resolved"] else "no",
                }
            writer.writerow(base | extra)
    return out.getvalue()


def to_text(report: dict) -> str:
    lines = [f"Class in {report['class_dir']}: {len(report['learners'])} learner(s)", ""]
    for row in report["learners"]:
        if not row["connected"]:
            lines.append(f"{row['name']}: has not connected yet")
            continue
        now = row["now"]
        where = f"now in {now['title']} (part {now['part']} of {now['parts']})" if now else "no lesson open"
        rate = "" if row["first_try_rate"] is None else f", {row['first_try_rate']:.0%} right first try"
        lines.append(f"{row['name']}: {len(row['lessons_done'])} lesson(s) done, {where}")
        lines.append(f"    {row['attempts']} answer(s) to {row['parts_answered']} part(s){rate}")
        for tag in row["misconceptions"]:
            state = "resolved later" if tag["resolved"] else "not yet resolved"
            lines.append(f"    {tag['tag']}: {tag['hits']}×, {state}")
    if report["misconceptions"]:
        lines += ["", "Misconceptions, and who hit them"]
        for tag in report["misconceptions"]:
            who = ", ".join(
                f"{x['name']} ({x['hits']}×{'' if x['resolved'] else ', open'})" for x in tag["learners"]
            )
            title = f" ({tag['title']})" if tag["title"] else ""
            lines.append(f"  {tag['tag']}{title}: {who}")
    return "\n".join(lines)


def run_report(args, environ) -> int:
    from tutor.lessons import lesson_dirs, load_catalog
    from tutor.serve.roster import db_url

    cls = ClassDir(args.class_dir, create=False, db=db_url(args.db, environ))
    catalog = load_catalog(lesson_dirs(args.lessons, environ), (), check=False)
    report = class_report(cls, catalog)
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.csv:
        sys.stdout.write(to_csv(report))
    else:
        print(to_text(report))
    return 0
