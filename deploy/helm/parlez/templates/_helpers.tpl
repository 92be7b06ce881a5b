{{- define "parlez.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "parlez.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "parlez.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "parlez.secretName" -}}
{{- if .Values.secret.create -}}{{ include "parlez.fullname" . }}{{- else -}}{{ required "secret.existingSecret is needed when secret.create is false" .Values.secret.existingSecret }}{{- end -}}
{{- end -}}

{{/* The container's environment and endpoints file, the same for the server and the migration job. */}}
{{- define "parlez.container" -}}
image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
imagePullPolicy: {{ .Values.image.pullPolicy }}
envFrom:
  - secretRef:
      name: {{ include "parlez.secretName" . }}
env:
  - name: PARLEZ_ENDPOINTS_FILE
    value: /etc/parlez/endpoints.yml
  {{- if .Values.torchThreads }}
  - name: PARLEZ_TORCH_THREADS
    value: {{ .Values.torchThreads | quote }}
  {{- end }}
volumeMounts:
  - name: endpoints
    mountPath: /etc/parlez
    readOnly: true
{{- end -}}
