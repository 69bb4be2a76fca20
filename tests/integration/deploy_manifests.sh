#!/usr/bin/env bash
# deploy_manifests.sh - the container and Kubernetes files, checked without a Docker engine
# or a cluster: yamllint (repo .yamllint) over compose and k8s; the ConfigMap is current
# with conf/churnwatch.yaml and passes the daemon's --check-config; the Deployment, PDB,
# Service and kustomization agree with each other, and the kustomization never applies a
# Secret (the Deployment reads churnwatch-credentials, created out of band, optionally); the
# NetworkPolicy selects the Deployment's pods, lets in only its http port and lets out DNS,
# Kafka and Redis alone; the Dockerfile's runtime stage
# installs a package for every shared library the built programs need, its build stage
# every library install-deps.sh builds with, and it runs as non-root with a /healthz check;
# compose creates the topics the config names; the PromQL rules in docs/operations.md
# pass promtool.
set -euo pipefail
: "${CW_BUILD_DIR:?}" "${CW_SOURCE_DIR:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cw-manifests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
S=$CW_SOURCE_DIR
K=$S/deploy/k8s
DF=$S/deploy/docker/Dockerfile
COMPOSE=$S/deploy/docker/compose.yaml

# ---- yamllint --------------------------------------------------------------------------------
yamllint --strict -c "$S/.yamllint" "$COMPOSE" "$K" "$S/.yamllint" || fail "yamllint"
pass "yamllint --strict: compose.yaml, deploy/k8s/*.yaml"

# ---- ConfigMap ---------------------------------------------------------------------------------
bash "$K/gen-configmap.sh" "$WORK/configmap.yaml"
diff -u "$K/configmap.yaml" "$WORK/configmap.yaml" >&2 ||
  fail "deploy/k8s/configmap.yaml is stale: run deploy/k8s/gen-configmap.sh"
sed -n '/^  churnwatch.yaml: |$/,$p' "$K/configmap.yaml" | tail -n +2 | sed 's/^    //' >"$WORK/cm.yaml"
grep -qx '  listen: 0.0.0.0:9464' "$WORK/cm.yaml" || fail "the ConfigMap's http.listen is not 0.0.0.0:9464"
env -u CHURNWATCH_KAFKA_BROKERS -u CHURNWATCH_REDIS_URL -u CHURNWATCH_LOG_LEVEL \
  "$CW_BUILD_DIR/daemon/churnwatchd" -c "$WORK/cm.yaml" --check-config >"$WORK/check.txt" 2>&1 ||
  { cat "$WORK/check.txt" >&2; fail "the ConfigMap's config fails --check-config"; }
# and the check can fail: a broken threshold in the same file is caught
sed '0,/^      enter: 40$/s//      enter: 400/' "$WORK/cm.yaml" >"$WORK/cm-bad.yaml"
cmp -s "$WORK/cm.yaml" "$WORK/cm-bad.yaml" && fail "could not break the ConfigMap's config"
"$CW_BUILD_DIR/daemon/churnwatchd" -c "$WORK/cm-bad.yaml" --check-config >/dev/null 2>&1 &&
  fail "--check-config accepted enter: 400"
pass "configmap.yaml current with conf/, listens on 0.0.0.0:9464, passes --check-config"

# ---- Deployment and friends ----------------------------------------------------------------------
D=$K/deployment.yaml
for want in 'path: /healthz' 'path: /readyz' 'containerPort: 9464' 'runAsNonRoot: true' \
  'readOnlyRootFilesystem: true' 'allowPrivilegeEscalation: false' 'drop: \["ALL"\]' \
  'type: RuntimeDefault' 'mountPath: /etc/churnwatch$' 'name: churnwatch-config' \
  'memory: ' 'cpu: '; do
  grep -qE -- "$want" "$D" || fail "deployment.yaml lacks '$want'"
done
grep -q '^  name: churnwatch-config$' "$K/configmap.yaml" || fail "ConfigMap name"
# Credentials: applying the kustomization never creates or overwrites a Secret (no Secret
# among its resources, no secretGenerator), and the Deployment reads the Secret created out
# of band optionally (a pod without it starts: no password).
python3 - "$K" <<'PY' || fail "the kustomization and the Secret churnwatch-credentials"
import os, sys, yaml
k = sys.argv[1]
kust = yaml.safe_load(open(os.path.join(k, "kustomization.yaml")))
bad = [key for key in ("secretGenerator", "generators") if kust.get(key)]
if bad:
    sys.exit(f"kustomization.yaml has {bad}: it would replace an existing Secret")
refs = []
def walk(node, path):
    if isinstance(node, dict):
        for key, val in node.items():
            if key in ("secretRef", "secretKeyRef", "secret") and isinstance(val, dict):
                refs.append((path + "." + key, val))
            walk(val, path + "." + key)
    elif isinstance(node, list):
        for i, val in enumerate(node):
            walk(val, f"{path}[{i}]")
for res in kust["resources"]:
    for doc in yaml.safe_load_all(open(os.path.join(k, res))):
        if doc and doc.get("kind") == "Secret":
            sys.exit(f"{res}: a Secret ({doc['metadata']['name']}) would overwrite the real one on every apply")
        if doc and doc.get("kind") == "Deployment":
            walk(doc, "Deployment")
if not any(r.get("name", r.get("secretName")) == "churnwatch-credentials" for _, r in refs):
    sys.exit("the Deployment does not read the Secret churnwatch-credentials")
for path, r in refs:
    if r.get("optional") is not True:
        sys.exit(f"{path}: the Secret reference is not optional: without the Secret the pod would not start")
print(f"ok: no Secret among {len(kust['resources'])} resources; {len(refs)} optional Secret reference(s)")
PY
grep -q 'kind: PodDisruptionBudget' "$K/pdb.yaml" && grep -q 'app.kubernetes.io/name: churnwatchd' "$K/pdb.yaml" ||
  fail "pdb.yaml does not select churnwatchd"
grace=$(sed -n 's/^ *terminationGracePeriodSeconds: \([0-9]*\)$/\1/p' "$D")
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$S/deploy/systemd/churnwatchd.service")
[ -n "$grace" ] && [ "$grace" -ge "$stop" ] || fail "terminationGracePeriodSeconds ($grace) < the unit's TimeoutStopSec ($stop)"
for f in "$K"/*.yaml; do
  b=$(basename "$f")
  [ "$b" = kustomization.yaml ] && continue
  grep -qx "  - $b" "$K/kustomization.yaml" || fail "kustomization.yaml does not list $b"
done
pass "Deployment: probes /healthz and /readyz, non-root, read-only root, drop ALL, seccomp; names agree; grace ${grace}s; no Secret applied, credentials optional"

# ---- NetworkPolicy -------------------------------------------------------------------------------
# python3-yaml comes with yamllint
python3 - "$K/networkpolicy.yaml" "$D" "$WORK/cm.yaml" <<'PY' || fail "networkpolicy.yaml"
import re, sys, yaml
np, dep, cfg = (yaml.safe_load(open(f)) for f in sys.argv[1:4])
def need(ok, what):
    if not ok:
        sys.exit("networkpolicy.yaml: " + what)
need(np["kind"] == "NetworkPolicy" and np["apiVersion"] == "networking.k8s.io/v1", "not a networking.k8s.io/v1 NetworkPolicy")
spec = np["spec"]
pod_labels = dep["spec"]["template"]["metadata"]["labels"]
need(spec["podSelector"]["matchLabels"].items() <= pod_labels.items(), "podSelector does not select the Deployment's pods")
need(sorted(spec["policyTypes"]) == ["Egress", "Ingress"], "policyTypes is not Ingress and Egress")
ports = dep["spec"]["template"]["spec"]["containers"][0]["ports"]
named = {p["name"]: p["containerPort"] for p in ports}
for rule in spec["ingress"]:
    need(rule.get("from"), "an ingress rule without 'from' admits everyone")
    for p in rule.get("ports") or [None]:
        need(p is not None and (p["port"] in named or p["port"] in named.values()), "ingress to a port other than the Deployment's")
for rule in spec["egress"]:
    need(rule.get("to") and rule.get("ports"), "an egress rule without 'to' or 'ports' lets out anything")
def egress(port, proto="TCP"):
    return [r for r in spec["egress"] if any(p["port"] == port and p.get("protocol", "TCP") == proto for p in r["ports"])]
need(egress(53, "UDP") and egress(53, "TCP"), "no egress to DNS (53/UDP and 53/TCP)")
brokers = cfg["kafka"]["brokers"].split(",")
for b in brokers:
    host, port = b.rsplit(":", 1)
    m = re.match(r"[^.]+\.([^.]+)\.svc", host)
    need(m, f"kafka.brokers {b}: not a Service name, cannot check the policy")
    ns = m.group(1)
    need(any(t.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == ns
             for r in egress(int(port)) for t in r["to"]), f"no egress to the brokers' namespace {ns} on {port}")
need(egress(6379), "no egress to Redis (6379)")
PY
pass "NetworkPolicy: selects churnwatchd, ingress only to port http from named peers, egress DNS, Kafka ($(sed -n 's/^ *brokers: //p' "$WORK/cm.yaml")), Redis"

# ---- Dockerfile ----------------------------------------------------------------------------------
runtime=$(awk '/^FROM /{n++} n==2' "$DF")
build=$(awk '/^FROM /{n++} n==1' "$DF")
grep -qx 'FROM debian:12 AS build' <<<"$build" || fail "build stage is not debian:12"
grep -qx 'FROM debian:12-slim' <<<"$runtime" || fail "runtime stage is not debian:12-slim"
user=$(sed -n 's/^USER \([0-9]*\):[0-9]*$/\1/p' <<<"$runtime")
[ -n "$user" ] && [ "$user" -ne 0 ] || fail "the runtime stage does not run as a numeric non-root USER"
grep -q "runAsUser: $user\$" "$D" || fail "deployment runAsUser is not the image's USER $user"
grep -qx 'EXPOSE 9464' <<<"$runtime" && grep -qx 'STOPSIGNAL SIGTERM' <<<"$runtime" &&
  grep -q '^HEALTHCHECK .*' <<<"$runtime" && grep -q 'http://127.0.0.1:9464/healthz' <<<"$runtime" ||
  fail "the runtime stage lacks EXPOSE 9464, STOPSIGNAL SIGTERM or a /healthz HEALTHCHECK"
grep -qx 'ENV CHURNWATCH_HTTP_LISTEN=0.0.0.0:9464' <<<"$runtime" ||
  fail "the runtime stage does not set CHURNWATCH_HTTP_LISTEN=0.0.0.0:9464"
grep -q 'CHURNWATCH_HTTP_LISTEN: 0.0.0.0:9464' "$COMPOSE" || fail "compose does not listen on 0.0.0.0:9464"
grep -A1 'name: CHURNWATCH_HTTP_LISTEN' "$D" | grep 'value: 0.0.0.0:9464' >/dev/null ||
  fail "the Deployment does not set CHURNWATCH_HTTP_LISTEN=0.0.0.0:9464"
# every shared library the programs link (besides libc and the sanitizers) comes from a
# package the runtime stage installs
for bin in churnwatchd churnwatch; do
  for so in $(readelf -d "$CW_BUILD_DIR/daemon/$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    case $so in libc.so.* | libm.so.* | libasan.so.* | libubsan.so.* | libgcc_s.so.* | ld-linux*) continue ;; esac
    path=$(ldd "$CW_BUILD_DIR/daemon/$bin" | awk -v so="$so" '$1 == so {print $3}')
    [ -n "$path" ] || fail "$bin: cannot resolve $so"
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | sed -n 1p | cut -d: -f1)
    [ -n "$pkg" ] || fail "$bin: no Debian package owns $path"
    grep -qE "(^| )$pkg( |$)" <<<"$runtime" || fail "$bin needs $so ($pkg), not installed by the runtime stage"
  done
done
# the build stage installs every library install-deps.sh builds with
libs=$(sed -n '/^  # libraries$/{n;p}' "$S/deploy/install-deps.sh")
[ -n "$libs" ] || fail "cannot read the libraries line of install-deps.sh"
for p in $libs; do
  grep -qE "(^| )$p( |$)" <<<"$build" || fail "the build stage does not install $p (install-deps.sh has it)"
done
pass "Dockerfile: debian:12 -> debian:12-slim, USER $user, /healthz HEALTHCHECK, runtime packages cover the linked libraries"

# ---- the example alerting rules in docs/operations.md ------------------------------------------
sed -n '/^```yaml$/,/^```$/p' "$S/docs/operations.md" | sed '1d;$d' >"$WORK/rules.yml"
grep -q 'churnwatch_consumer_lag' "$WORK/rules.yml" && grep -q 'churnwatch_events_rejected_total' "$WORK/rules.yml" ||
  fail "docs/operations.md: no rules on lag and rejects found"
promtool check rules "$WORK/rules.yml" >"$WORK/promtool.txt" 2>&1 || { cat "$WORK/promtool.txt" >&2; fail "promtool check rules"; }
pass "docs/operations.md: $(grep -c -- '- alert:' "$WORK/rules.yml") example rules pass promtool check rules"

# ---- compose ----------------------------------------------------------------------------------------
for key in topics alerts_topic dlq_topic; do
  for t in $(sed -n "s/^  $key: \[\{0,1\}\([^]]*\)\]\{0,1\}\$/\1/p" "$S/conf/churnwatch.yaml" | tr ',' ' '); do
    grep -qE "(^| )$t:[0-9]+( |;|$)" "$COMPOSE" || fail "compose does not create topic $t"
  done
done
grep -q 'CHURNWATCH_KAFKA_BROKERS: kafka:9092' "$COMPOSE" && grep -q 'PLAINTEXT://kafka:9092' "$COMPOSE" ||
  fail "compose: churnwatchd's brokers are not kafka's advertised listener"
grep -q 'image: apache/kafka' "$COMPOSE" && grep -q 'KAFKA_PROCESS_ROLES: broker,controller' "$COMPOSE" &&
  grep -q 'image: redis:7' "$COMPOSE" || fail "compose: not KRaft Apache Kafka + Redis 7"
pass "compose: KRaft Kafka, Redis 7, the config's topics created, brokers agree"
