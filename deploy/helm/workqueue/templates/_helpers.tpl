{{- define "workqueue.env" -}}
- {name: KAFKA_BOOTSTRAP_SERVERS, value: {{ .Values.kafka.bootstrapServers | quote }}}
- {name: KAFKA_SECURITY_PROTOCOL, value: {{ .Values.kafka.securityProtocol | quote }}}
{{- if .Values.kafka.saslMechanism }}
- {name: KAFKA_SASL_MECHANISM, value: {{ .Values.kafka.saslMechanism | quote }}}
{{- end }}
- {name: KAFKA_REPLICATION_FACTOR, value: {{ .Values.kafka.replicationFactor | quote }}}
- {name: KAFKA_FETCH_MAX_WAIT_MS, value: {{ .Values.kafka.fetchMaxWaitMs | quote }}}
- {name: POSTGRES_SERVER_URL, value: {{ .Values.postgres.serverUrl | quote }}}
- {name: DATABASE_PREFIX, value: {{ .Values.postgres.databasePrefix | quote }}}
- {name: REDIS_URL, value: {{ .Values.redis.url | quote }}}
- {name: LOG_LEVEL, value: {{ .Values.logLevel | quote }}}
- {name: WQ_ENV, value: {{ .Values.environment | quote }}}
- {name: BIND_HOST, value: "0.0.0.0"}
- {name: GATEWAY_NBA_URL, value: "http://{{ .Release.Name }}-nba-api:8002"}
{{- end -}}
{{- define "workqueue.envFrom" -}}
{{- if .Values.existingSecret }}
envFrom:
  - secretRef: {name: {{ .Values.existingSecret }}}
{{- end }}
{{- end -}}
