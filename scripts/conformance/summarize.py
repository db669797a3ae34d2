#!/usr/bin/env python3
"""Prints a Markdown table of every plan and module the local conformance suite ran, with the
suite's FAILURE / WARNING / REVIEW messages per module, the fields the suite logged with them
(expected/actual/missing...), and for REVIEW or interrupted modules the text of the last page the
suite's browser saw on the OP (what a reviewer would see in the screenshot).

usage: summarize.py SUITE_URL [OP_ORIGIN] [PLAN_ID ...]   (no plan ids: every plan on the server)
Needs httpx (the suite's scripts/requirements.txt venv). Dev-mode suite: no token.
"""
import html
import re
import sys

import httpx

NOISE = {"_id", "testOwner", "time", "testId", "blockId", "msg", "src", "result", "requirements", "page_source"}


def page_text(source):
    source = re.sub(r"(?is)<(script|style|head|noscript)\b.*?</\1>", " ", source)
    # elements a browser does not show (<p hidden>, <form hidden>: e.g. the passkey form's alert)
    source = re.sub(r"(?is)<(p|form|div|section|button)\b[^>]*\shidden(?=[\s=>])[^>]*>.*?</\1>", " ", source)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", source))).strip()


def main():
    base = sys.argv[1].rstrip("/")
    op = sys.argv[2].rstrip("/") if len(sys.argv) > 2 and sys.argv[2].startswith("http") else None
    plan_ids = [a for a in sys.argv[2:] if not a.startswith("http")]
    c = httpx.Client(verify=False, timeout=60)
    if not plan_ids:
        r = c.get(base + "/api/plan", params={"length": 1000, "start": 0})
        r.raise_for_status()
        plans = r.json().get("data", [])
        plan_ids = [p["_id"] for p in sorted(plans, key=lambda p: str(p.get("started") or ""))]
    totals = {}
    per_plan = []
    for pid in plan_ids:
        plan = c.get(base + "/api/plan/" + pid).json()
        print("\n## {} ({})\n".format(plan.get("planName"), pid))
        if plan.get("variant"):
            print("variant: `{}`\n".format(plan["variant"]))
        print("| module | status | result | failures / warnings / review |")
        print("|---|---|---|---|")
        details = []
        plan_counts = {}
        variant = plan.get("variant") or {}
        registration = variant.get("client_registration", "")
        if plan.get("planName") == "oidcc-test-plan" and variant.get("client_auth_type"):
            # the comprehensive plan runs once per client authentication method
            mode = variant.get("response_mode")
            registration = ", ".join(v for v in (variant["client_auth_type"], None if mode in (None, "default") else "response_mode=" + mode, registration) if v)
        per_plan.append((plan.get("planName"), registration, plan_counts))
        for m in plan.get("modules", []):
            instances = m.get("instances") or []
            if not instances:
                print("| {} | not run | | |".format(m["testModule"]))
                continue
            tid = instances[-1]
            info = c.get(base + "/api/info/" + tid).json()
            log = c.get(base + "/api/log/" + tid).json()
            bad = [e for e in log if e.get("result") in ("FAILURE", "WARNING", "REVIEW", "SKIPPED")]
            counts = {}
            for e in bad:
                counts[e["result"]] = counts.get(e["result"], 0) + 1
            result = info.get("result") or ""
            status = info.get("status")
            totals[result] = totals.get(result, 0) + 1
            plan_counts[result] = plan_counts.get(result, 0) + 1
            print("| {} | {} | {} | {} |".format(m["testModule"], status, result,
                                                 ", ".join("{} {}".format(v, k) for k, v in sorted(counts.items()))))
            if not bad and result == "PASSED":
                continue
            details.append("\n### {} — {} ({})\nlog: {}/log-detail.html?log={}".format(
                m["testModule"], result, status, base, tid))
            for e in bad:
                reqs = e.get("requirements") or []
                extra = {k: v for k, v in e.items() if k not in NOISE}
                details.append("- {} `{}`: {}{}{}".format(
                    e["result"], e.get("src", ""), e.get("msg", ""),
                    " [" + ", ".join(reqs) + "]" if reqs else "",
                    (" — " + "; ".join("{}={}".format(k, str(v)[:300]) for k, v in extra.items())) if extra else ""))
            if status == "INTERRUPTED" or result in ("FAILED", "UNKNOWN", "REVIEW"):
                # what the browser last saw on the OP (the page a screenshot would show)
                pages = [e for e in log if e.get("msg") == "Scripted browser HTTP response" and e.get("response_content")]
                reqs_ = [e for e in log if e.get("msg") == "Scripted browser HTTP request"]
                for req, resp in list(zip(reqs_, pages))[-2:]:
                    uri = str(req.get("request_uri", ""))
                    if op and not uri.startswith(op):
                        continue
                    details.append("  - browser: {} {} -> {} \"{}\"".format(
                        req.get("request_method", ""), uri[:160], resp.get("response_status_code"),
                        page_text(str(resp.get("response_content")))[:300]))
                for e in log:
                    if "page_source" in e:
                        details.append("  - page captured{}: \"{}\"".format((" at " + str(e["url"])[:120]) if e.get("url") else "", page_text(e["page_source"])[:300]))
        if details:
            print("\n".join(details))
    columns = ["PASSED", "WARNING", "REVIEW", "SKIPPED", "FAILED"]
    print("\n## Table\n\n| plan | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns))
    for name, registration, counts in per_plan:
        label = name.replace("-certification-test-plan", "") + (" (" + registration + ")" if registration else "")
        print("| {} | {} |".format(label, " | ".join(str(counts.get(c, 0)) for c in columns)))
    print("| **total** | " + " | ".join("**{}**".format(totals.get(c, 0)) for c in columns) + " |")
    print("\n**totals by result:** " + ", ".join("{} {}".format(v, k or "(none)") for k, v in sorted(totals.items())))


if __name__ == "__main__":
    main()
