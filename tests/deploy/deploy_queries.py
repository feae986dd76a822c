"""The PromQL that deploy/ ships, collected for tests: every alert's
expression (split into its signal and threshold sides), every recording
rule, and every Grafana panel query and template variable, with Grafana's
variables replaced so Prometheus can run them.
"""
import glob
import json
import os
import re

import yaml

COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
# What Grafana would put for its variables; $edge etc. are multi-value
# variables whose "All" is the regex .*.
GRAFANA_VARIABLES = {
    "$__rate_interval": "30s",
    "$__interval": "5s",
    "$__range": "5m",
}


def split_comparison(expr):
    """(lhs, op, rhs) at the last comparison operator outside brackets and
    quotes, or None when the expression compares nothing at top level."""
    depth = 0
    quote = None
    found = None
    i = 0
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            for op in COMPARISONS:
                if expr.startswith(op, i) and not expr.startswith("=~", i) \
                        and not expr.startswith("!~", i):
                    found = (i, op)
                    i += len(op) - 1
                    break
        i += 1
    if not found:
        return None
    pos, op = found
    rhs = expr[pos + len(op):].strip()
    # Drop the binary operator's modifiers: bool, on(...)/ignoring(...),
    # group_left(...)/group_right(...).
    rhs = re.sub(r"^(bool\s+)?((on|ignoring)\s*\([^)]*\)\s*)?"
                 r"((group_left|group_right)\s*(\([^)]*\))?\s*)?", "", rhs)
    return expr[:pos].strip(), op, rhs


def is_number(text):
    try:
        float(eval(text, {"__builtins__": {}}, {}))  # "2 * 1024 * 1024" and the like
        return True
    except Exception:
        return False


def rule_files(repo):
    return sorted(glob.glob(os.path.join(repo, "deploy/prometheus/rules/*.yml")))


def rules(repo):
    """(group, rule) for every rule of every rule file."""
    out = []
    for path in rule_files(repo):
        with open(path) as f:
            doc = yaml.safe_load(f)
        for group in doc["groups"]:
            for rule in group["rules"]:
                out.append((group["name"], rule))
    return out


def alert_queries(repo):
    """(description, query) for both sides of every alert's comparison (a
    plain-number side is skipped)."""
    out = []
    for _, rule in rules(repo):
        if "alert" not in rule:
            continue
        expr = " ".join(rule["expr"].split())
        parts = split_comparison(expr)
        if parts is None:
            raise ValueError(f"alert {rule['alert']}: expression has no top-level comparison: {expr}")
        lhs, _, rhs = parts
        out.append((f"alert {rule['alert']} (signal)", lhs))
        if not is_number(rhs):
            out.append((f"alert {rule['alert']} (threshold)", rhs))
    return out


def recording_queries(repo):
    out = []
    for _, rule in rules(repo):
        if "record" in rule:
            out.append((f"recording rule {rule['record']} (expression)", " ".join(rule["expr"].split())))
            out.append((f"recording rule {rule['record']} (series)", rule["record"]))
    return out


def substitute_grafana(expr, variables):
    for k, v in GRAFANA_VARIABLES.items():
        expr = expr.replace(k, v)
    for name in variables:
        expr = expr.replace("$" + name, ".*")
    return expr


def dashboards(repo):
    out = {}
    for path in sorted(glob.glob(os.path.join(repo, "deploy/grafana/dashboards/*.json"))):
        with open(path) as f:
            out[os.path.basename(path)] = json.load(f)
    return out


def dashboard_queries(repo):
    """(description, query) for every panel target; (description, metric)
    for every template variable's label_values(metric, label)."""
    queries, variable_metrics = [], []
    for name, dash in dashboards(repo).items():
        variables = [v["name"] for v in dash.get("templating", {}).get("list", [])]
        for v in dash.get("templating", {}).get("list", []):
            definition = v.get("definition", "")
            if definition.startswith("label_values("):
                metric, label = [s.strip() for s in definition[len("label_values("):-1].split(",")]
                variable_metrics.append((f"{name} variable ${v['name']}", metric, label))
        for panel in dash["panels"]:
            for t in panel.get("targets", []):
                queries.append((f"{name} panel {panel['id']} \"{panel['title']}\" {t['refId']}",
                                substitute_grafana(t["expr"], variables)))
    return queries, variable_metrics
