{{- define "saldo.labels" -}}
app.kubernetes.io/name: saldo
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "saldo.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end }}

{{/* The environment every Saldo container gets: plain settings, then the secrets by reference. */}}
{{- define "saldo.env" -}}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
- name: SALDO_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.databaseUrl }}}}
- name: SALDO_APP_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.appDatabaseUrl }}}}
- name: SALDO_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.secretKey }}}}
- name: SALDO_METRICS_TOKEN
  valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.metricsToken }}}}
- name: SALDO_REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.redisUrl }}}}
{{- if .Values.secretKeys.replicaDatabaseUrl }}
- name: SALDO_REPLICA_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.replicaDatabaseUrl }}, optional: true}}
{{- end }}
{{- end }}

{{- define "saldo.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile: {type: RuntimeDefault}
{{- end }}

{{- define "saldo.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities: {drop: ["ALL"]}
{{- end }}
