#!/usr/bin/env bash
# The PrometheusRule of the Prometheus Operator, made from dashboards/alerts.yml (the rules
# file is its spec, indented, comments and all), so that the rules exist once and are not
# copied by hand. The build writes build/kubernetes/prometheusrule.yaml with it; the
# kubernetes_manifests test checks that its spec is alerts.yml, parsed.
#   packaging/kubernetes/prometheusrule.sh dashboards/alerts.yml | kubectl apply -f -
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 ALERTS_YML" >&2; exit 2; }
rules=$1
# A rules file is one block-style document: no document markers, nothing that indenting
# could change the meaning of.
if grep -qE '^(---|\.\.\.)' "$rules"; then
  echo "$0: $rules has a YAML document marker; cannot embed it" >&2
  exit 1
fi
cat <<'HEAD'
# Generated from dashboards/alerts.yml by packaging/kubernetes/prometheusrule.sh: edit those.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: elb-job-exporter
  labels:
    app.kubernetes.io/name: elb-job-exporter
    app.kubernetes.io/component: alerting-rules
spec:
HEAD
sed -e 's/^\(.\)/  \1/' "$rules"
