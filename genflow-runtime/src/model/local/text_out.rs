//! [`TextOut`]: turns generated token bytes into text deltas, holding back what could still be
//! the start of a stop sequence or of a UTF-8 character.

/// The reply text so far and how much of it went out.
pub(crate) struct TextOut {
    bytes: Vec<u8>,
    text: String,
    sent: usize,
    stops: Vec<String>,
}

/// What one token's bytes produce.
#[derive(Debug, PartialEq)]
pub(crate) enum Step {
    /// Text to send now (possibly empty).
    Text(String),
    /// A stop sequence ended the reply; the text before it to send last.
    Stopped(String),
}

impl TextOut {
    /// Watches for `stops` (empty ones are ignored).
    pub(crate) fn new(stops: &[String]) -> Self {
        TextOut {
            bytes: Vec::new(),
            text: String::new(),
            sent: 0,
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
        }
    }

    /// Adds one token's bytes.
    pub(crate) fn push(&mut self, token_bytes: &[u8]) -> Step {
        self.bytes.extend_from_slice(token_bytes);
        let valid = match std::str::from_utf8(&self.bytes) {
            Ok(s) => s.len(),
            // An error with `error_len` None is a character cut short: wait for its bytes.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => {
                // Invalid bytes: send them as U+FFFD rather than stall.
                let end = e.valid_up_to() + e.error_len().unwrap_or(1);
                let lossy = String::from_utf8_lossy(&self.bytes[..end]).into_owned();
                self.text.push_str(&lossy);
                self.bytes.drain(..end);
                return self.push(&[]);
            }
        };
        if valid > 0 {
            let complete: Vec<u8> = self.bytes.drain(..valid).collect();
            self.text.push_str(&String::from_utf8_lossy(&complete));
        }
        // A stop sequence could straddle the text sent and the new text: search from as far
        // back as the longest one reaches.
        let longest = self.stops.iter().map(String::len).max().unwrap_or(0);
        let mut from = self.sent.saturating_sub(longest);
        while !self.text.is_char_boundary(from) {
            from -= 1;
        }
        let found = self
            .stops
            .iter()
            .filter_map(|s| self.text[from..].find(s.as_str()).map(|i| from + i))
            .min();
        if let Some(at) = found {
            let rest = self.text[self.sent.min(at)..at].to_owned();
            self.text.truncate(at);
            self.bytes.clear();
            self.sent = at;
            return Step::Stopped(rest);
        }
        let safe = self.text.len() - self.held_back();
        let out = self.text[self.sent..safe.max(self.sent)].to_owned();
        self.sent = safe.max(self.sent);
        Step::Text(out)
    }

    /// The length of the longest end of the text that begins some stop sequence.
    fn held_back(&self) -> usize {
        self.stops
            .iter()
            .flat_map(|stop| {
                (1..stop.len())
                    .rev()
                    .filter(|&n| stop.is_char_boundary(n) && self.text.ends_with(&stop[..n]))
                    .take(1)
            })
            .max()
            .unwrap_or(0)
    }

    /// The text held back when the reply ends (none after a stop sequence).
    pub(crate) fn finish(&mut self) -> String {
        let mut rest = self.text[self.sent..].to_owned();
        rest.push_str(&String::from_utf8_lossy(&self.bytes));
        self.sent = self.text.len();
        self.bytes.clear();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], tokens: &[&[u8]]) -> (Vec<String>, Option<String>, String) {
        let stops: Vec<String> = stops.iter().map(|s| (*s).to_owned()).collect();
        let mut out = TextOut::new(&stops);
        let mut sent = Vec::new();
        for t in tokens {
            match out.push(t) {
                Step::Text(s) => sent.push(s),
                Step::Stopped(s) => return (sent, Some(s), String::new()),
            }
        }
        let rest = out.finish();
        (sent, None, rest)
    }

    #[test]
    fn text_goes_out_token_by_token() {
        let (sent, stopped, rest) = run(&[], &[b"Hel", b"lo", b" world"]);
        assert_eq!(sent, ["Hel", "lo", " world"]);
        assert_eq!((stopped, rest), (None, String::new()));
    }

    #[test]
    fn a_character_split_across_tokens_waits_for_its_bytes() {
        let e = "é".as_bytes();
        let (sent, _, _) = run(&[], &[b"caf", &e[..1], &e[1..], b"!"]);
        assert_eq!(sent, ["caf", "", "é", "!"]);
    }

    #[test]
    fn stop_sequences_cut_the_reply_even_across_tokens() {
        let (sent, stopped, _) = run(&["END"], &[b"one E", b"N", b"D two"]);
        assert_eq!(sent, ["one ", ""]);
        assert_eq!(stopped.as_deref(), Some(""));
        let (sent, stopped, _) = run(&["\n\n"], &[b"a\n", b"b", b"\n\nc"]);
        assert_eq!(sent, ["a", "\nb"]);
        assert_eq!(stopped.as_deref(), Some(""));
    }

    #[test]
    fn a_near_miss_is_sent_once_it_cannot_be_a_stop() {
        let (sent, stopped, rest) = run(&["STOP"], &[b"ST", b"OR", b"Y"]);
        assert_eq!(sent, ["", "STOR", "Y"]);
        assert_eq!((stopped, rest), (None, String::new()));
        let (sent, _, rest) = run(&["STOP"], &[b"the ST"]);
        assert_eq!((sent, rest), (vec!["the ".to_owned()], "ST".to_owned()));
    }
}
