{{/* The name every object of a release carries. */}}
{{- define "codewire-relay.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "codewire-relay.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
The relay's pods. The component keeps the `helm test` pod (component: test) out of the
Service's endpoints and away from the ReplicaSet, which would adopt a bare pod its selector
matches and count it as a replica.
*/}}
{{- define "codewire-relay.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: relay
{{- end -}}

{{/* PostgreSQL is configured: a URL in values or an existing Secret. */}}
{{- define "codewire-relay.postgres" -}}
{{- if or .Values.database.url .Values.database.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* Several replicas share one PostgreSQL database: refuse to render otherwise. */}}
{{- define "codewire-relay.check" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "codewire-relay.postgres" .)) -}}
{{- fail "replicaCount > 1 needs PostgreSQL: set database.url or database.existingSecret (SQLite serves one replica only)" -}}
{{- end -}}
{{- end -}}

{{/*
The URL nodes and people reach the relay at: relay.baseURL, or else the Ingress's host (https
when the Ingress has TLS), so that an install with only ingress.host set still tells its users
a URL they can reach rather than the pod's listen address.
*/}}
{{- define "codewire-relay.baseURL" -}}
{{- if .Values.relay.baseURL -}}
{{- .Values.relay.baseURL -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.tls))) .Values.ingress.host -}}
{{- end -}}
{{- end -}}
