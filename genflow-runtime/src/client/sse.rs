//! Splitting an event stream into the `data` of its events.
//!
//! Tolerant of every flow server in the wild: `\n`, `\r\n` and `\r` line ends, comments and
//! keep-alives (`:` lines), multi-line data, fields other than `data` (ignored), a last event
//! without its blank line, and Genkit JS's `error: {...}` lines, read as data.

use futures::{Stream, StreamExt, stream};

/// Accumulates bytes and hands out complete events.
#[derive(Default)]
struct Events {
    buffer: Vec<u8>,
    data: Option<String>,
}

impl Events {
    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete event's data. With `ended`, the buffer's tail counts as complete.
    fn next_event(&mut self, ended: bool) -> Option<String> {
        while let Some(line) = self.next_line(ended) {
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    return Some(data);
                }
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line.as_str(), ""),
            };
            if matches!(field, "data" | "error") {
                match &mut self.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => self.data = Some(value.to_owned()),
                }
            }
        }
        if ended { self.data.take() } else { None }
    }

    fn next_line(&mut self, ended: bool) -> Option<String> {
        let end = self.buffer.iter().position(|b| matches!(b, b'\n' | b'\r'));
        let (end, skip) = match end {
            // A `\r` last in the buffer may be the first half of `\r\n`: wait for more.
            Some(i) if self.buffer[i] == b'\r' && i + 1 == self.buffer.len() && !ended => {
                return None;
            }
            Some(i) if self.buffer[i] == b'\r' && self.buffer.get(i + 1) == Some(&b'\n') => (i, 2),
            Some(i) => (i, 1),
            None if ended && !self.buffer.is_empty() => (self.buffer.len(), 0),
            None => return None,
        };
        let line = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
        self.buffer.drain(..end + skip);
        Some(line)
    }
}

/// The data of each event of `bytes`, in order; a transport error ends the stream after it.
pub(crate) fn event_data<S, B, E>(bytes: S) -> impl Stream<Item = Result<String, E>>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    stream::unfold(
        Some((bytes, Events::default(), false)),
        |state| async move {
            let (mut bytes, mut events, mut ended) = state?;
            loop {
                if let Some(data) = events.next_event(ended) {
                    return Some((Ok(data), Some((bytes, events, ended))));
                }
                if ended {
                    return None;
                }
                match bytes.next().await {
                    Some(Ok(chunk)) => events.push(chunk.as_ref()),
                    Some(Err(error)) => return Some((Err(error), None)),
                    None => ended = true,
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    async fn split(pieces: &[&str]) -> Vec<String> {
        let bytes = stream::iter(pieces.iter().map(|p| Ok::<_, Infallible>(p.as_bytes())));
        event_data(bytes)
            .map(|item| item.unwrap_or_else(|never| match never {}))
            .collect()
            .await
    }

    #[tokio::test]
    async fn genflow_frames_split_anywhere() {
        let wire = "data: {\"message\":1}\n\ndata: {\"result\":2}\n\n";
        let whole = split(&[wire]).await;
        assert_eq!(whole, ["{\"message\":1}", "{\"result\":2}"]);
        for cut in 0..wire.len() {
            assert_eq!(
                split(&[&wire[..cut], &wire[cut..]]).await,
                whole,
                "cut at {cut}"
            );
        }
    }

    #[tokio::test]
    async fn line_ends_comments_and_other_servers() {
        let crlf = "data: {\"message\":1}\r\n\r\n: keep-alive\r\n\r\nevent: x\r\ndata: {\"result\":2}\r\n\r\n";
        assert_eq!(split(&[crlf]).await, ["{\"message\":1}", "{\"result\":2}"]);
        let cr = "data: a\r\rdata: b\r\r";
        for cut in 0..cr.len() {
            assert_eq!(
                split(&[&cr[..cut], &cr[cut..]]).await,
                ["a", "b"],
                "cut at {cut}"
            );
        }
        assert_eq!(split(&["data:x\ndata: y\n\n"]).await, ["x\ny"]);
        assert_eq!(
            split(&["error: {\"error\":{\"status\":\"INTERNAL\"}}\n\n"]).await,
            ["{\"error\":{\"status\":\"INTERNAL\"}}"]
        );
        assert_eq!(
            split(&["data: last"]).await,
            ["last"],
            "no final blank line"
        );
        assert!(split(&[":\n\n", "\n\n"]).await.is_empty());
    }
}
