//! The OTLP/HTTP span exporter (feature `otlp`).

#[cfg(feature = "otlp")]
mod enabled {
    use opentelemetry_otlp::{SpanExporter, WithExportConfig};
    use opentelemetry_sdk::trace::{BatchSpanProcessor, SpanProcessor};

    use crate::telemetry::TelemetryError;

    /// A batching OTLP/HTTP exporter, when an endpoint is configured in code or through the
    /// standard `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` variables.
    pub(crate) fn exporter(
        endpoint: Option<&str>,
    ) -> Result<Option<Box<dyn SpanProcessor>>, TelemetryError> {
        let from_env = [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
        if endpoint.is_none() && !from_env {
            return Ok(None);
        }
        crate::tls::install_crypto_provider();
        let mut exporter = SpanExporter::builder().with_http();
        if let Some(endpoint) = endpoint {
            exporter =
                exporter.with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')));
        }
        let exporter = exporter
            .build()
            .map_err(|e| TelemetryError::Otlp(e.to_string()))?;
        Ok(Some(Box::new(
            BatchSpanProcessor::builder(exporter).build(),
        )))
    }
}

#[cfg(not(feature = "otlp"))]
mod disabled {
    use opentelemetry_sdk::trace::SpanProcessor;

    use crate::telemetry::TelemetryError;

    /// Without the `otlp` feature an explicit endpoint is a configuration error.
    pub(crate) fn exporter(
        endpoint: Option<&str>,
    ) -> Result<Option<Box<dyn SpanProcessor>>, TelemetryError> {
        match endpoint {
            Some(endpoint) => Err(TelemetryError::Otlp(format!(
                "an OTLP endpoint ({endpoint}) is configured, but genflow-runtime was built without the `otlp` feature"
            ))),
            None => Ok(None),
        }
    }
}

#[cfg(not(feature = "otlp"))]
pub(crate) use disabled::exporter;
#[cfg(feature = "otlp")]
pub(crate) use enabled::exporter;
