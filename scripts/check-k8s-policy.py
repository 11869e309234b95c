#!/usr/bin/env python3
"""Offline policy check of deploy/kubernetes/*.yaml (no cluster, so no server-side schema):
what the runbook relies on must be there. Exits 1 with one line per problem."""
import sys
import yaml

problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


def pod_spec(doc):
    kind = doc["kind"]
    if kind == "Deployment" or kind == "Job":
        return doc["spec"]["template"]["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


docs = []
for path in sys.argv[1:]:
    with open(path) as f:
        docs += [(path, d) for d in yaml.safe_load_all(f) if d]

kinds = {}
for path, d in docs:
    kinds.setdefault(d["kind"], []).append(d)
    spec = pod_spec(d)
    if spec is None:
        continue
    where = f'{path}: {d["kind"]} {d["metadata"].get("name", d["metadata"].get("generateName"))}'
    need(spec.get("serviceAccountName") == "dynarep", f"{where}: serviceAccountName dynarep (IRSA)")
    psc = spec.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True, f"{where}: pod securityContext.runAsNonRoot true")
    for c in spec["containers"]:
        sc = c.get("securityContext", {})
        need(sc.get("readOnlyRootFilesystem") is True, f"{where}: container {c['name']} readOnlyRootFilesystem")
        need(sc.get("allowPrivilegeEscalation") is False, f"{where}: container {c['name']} allowPrivilegeEscalation false")
        res = c.get("resources", {})
        need("requests" in res and "limits" in res, f"{where}: container {c['name']} resources requests and limits")
        args = c.get("args", [])
        need(bool(args) and args[0] in ("replicate", "diff-tables", "backup-table"), f"{where}: args start with a dynarep command")

dep = [d for d in kinds.get("Deployment", []) if d["metadata"]["name"] == "dynarep-replicate"]
need(len(dep) == 1, "a Deployment dynarep-replicate")
if dep:
    d = dep[0]
    ann = d["spec"]["template"]["metadata"].get("annotations", {})
    c = d["spec"]["template"]["spec"]["containers"][0]
    args = c["args"]
    port = next((a.split("=", 1)[1] for a in args if a.startswith("--metrics-port=")), None)
    need(port is not None, "replicate: --metrics-port=P")
    need("--metrics-bind=0.0.0.0" in args, "replicate: --metrics-bind=0.0.0.0 (probes and scrapes come from outside the pod)")
    need(any(a.startswith("--lease-table=") for a in args), "replicate: an explicit --lease-table shared by the replicas")
    need(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == port,
         "replicate: prometheus.io/scrape and prometheus.io/port = the metrics port")
    ports = {p["name"]: str(p["containerPort"]) for p in c.get("ports", [])}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        g = c.get(probe, {}).get("httpGet", {})
        need(g.get("path") == path, f"replicate: {probe} on {path}")
        need(str(ports.get(g.get("port"), g.get("port"))) == port, f"replicate: {probe} on the metrics port")

sa = [d for d in kinds.get("ServiceAccount", []) if d["metadata"]["name"] == "dynarep"]
need(len(sa) == 1 and "eks.amazonaws.com/role-arn" in sa[0]["metadata"].get("annotations", {}),
     "a ServiceAccount dynarep annotated eks.amazonaws.com/role-arn")

jobs = kinds.get("Job", [])
need(len(jobs) == 1, "one Job (diff-tables)")
if jobs:
    j = jobs[0]
    args = j["spec"]["template"]["spec"]["containers"][0]["args"]
    segs = next((a.split("=", 1)[1] for a in args if a.startswith("--segments=")), None)
    need(j["spec"].get("completionMode") == "Indexed", "diff Job: completionMode Indexed")
    need(args[0] == "diff-tables" and "--segment=$(JOB_COMPLETION_INDEX)" in args, "diff Job: diff-tables --segment=$(JOB_COMPLETION_INDEX)")
    need(segs is not None and str(j["spec"].get("completions")) == segs, "diff Job: completions == --segments")

cron = kinds.get("CronJob", [])
need(len(cron) == 1 and cron[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"][0] == "backup-table",
     "a CronJob running backup-table")

for p in problems:
    print(f"k8s policy: missing or wrong: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
