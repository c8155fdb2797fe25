//! Trace and span ids, and the W3C `traceparent` header that carries them between services.

use std::fmt;

/// The trace and span of one run, as Genkit's `x-genkit-trace-id` / `x-genkit-span-id` carry
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpanIds {
    /// The 128-bit trace id.
    pub trace_id: u128,
    /// The 64-bit span id.
    pub span_id: u64,
}

impl SpanIds {
    /// Fresh random ids: a new span in `trace_id`, or in a new trace. Never zero, which
    /// OpenTelemetry reserves for "invalid".
    pub(crate) fn fresh(trace_id: Option<u128>) -> Self {
        SpanIds {
            trace_id: trace_id.unwrap_or_else(|| fastrand::u128(1..)),
            span_id: fastrand::u64(1..),
        }
    }

    /// The trace id as 32 lower-case hex digits.
    pub fn trace_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// The span id as 16 lower-case hex digits.
    pub fn span_hex(&self) -> String {
        format!("{:016x}", self.span_id)
    }
}

/// A parsed W3C `traceparent` header (`00-<trace id>-<parent span id>-<flags>`): the caller's
/// span, which a run joins as a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    /// The caller's trace and span.
    pub ids: SpanIds,
    /// Whether the caller sampled the trace.
    pub sampled: bool,
}

impl TraceParent {
    /// Parses a `traceparent` header value; `None` when it is malformed, as the W3C
    /// specification asks receivers to ignore such headers.
    pub fn parse(header: &str) -> Option<TraceParent> {
        let mut parts = header.trim().split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version.len() != 2
            || version == "ff"
            || trace.len() != 32
            || span.len() != 16
            || flags.len() != 2
        {
            return None;
        }
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let hex = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if ![version, trace, span, flags].into_iter().all(hex) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let span_id = u64::from_str_radix(span, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        (trace_id != 0 && span_id != 0).then_some(TraceParent {
            ids: SpanIds { trace_id, span_id },
            sampled: flags & 1 == 1,
        })
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.ids.trace_hex(),
            self.ids.span_hex(),
            u8::from(self.sampled)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_the_w3c_example() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parent = TraceParent::parse(header).expect("valid traceparent");
        assert_eq!(parent.ids.trace_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parent.ids.span_hex(), "00f067aa0ba902b7");
        assert!(parent.sampled);
        assert_eq!(parent.to_string(), header);
    }

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-xyz92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }
}
