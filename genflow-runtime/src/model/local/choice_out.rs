//! [`ChoiceOut`]: turns the text of a reply constrained by a [`Choice`](super::choice::Choice)
//! into deltas. A tool call streams no text: it becomes one tool request when complete. An
//! answer streams as it comes: its text decoded from the JSON string, or its value's JSON
//! (for structured output) without the wrapping object.

use serde_json::Value;

use super::choice::{ANSWER_KEY, CALL_KEY};
use crate::model::response::FinishReason;
use crate::model::stream::ModelDelta;

/// The longest escape sequence of a JSON string (a surrogate pair, `\uD83D\uDE00`), less one.
const LONGEST_ESCAPE: usize = 11;

/// The reply's text so far and what it turned out to be.
pub(crate) struct ChoiceOut {
    text: String,
    branch: Branch,
    /// Bytes of the answer's value (structured) or characters of its decoded text sent.
    sent: usize,
    structured: bool,
    call_id: String,
}

/// Which branch the reply took.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Branch {
    Undecided,
    Call,
    /// The answer's value starts at this byte.
    Answer(usize),
}

impl ChoiceOut {
    /// For a reply whose answer is `structured` JSON (or else text); a call gets `call_id`.
    pub(crate) fn new(structured: bool, call_id: String) -> Self {
        ChoiceOut {
            text: String::new(),
            branch: Branch::Undecided,
            sent: 0,
            structured,
            call_id,
        }
    }

    /// Adds reply text; the answer text to send now (empty for a call or while undecided).
    pub(crate) fn push(&mut self, piece: &str) -> String {
        self.text.push_str(piece);
        if self.branch == Branch::Undecided {
            let call = format!("{{\"{CALL_KEY}\":");
            let answer = format!("{{\"{ANSWER_KEY}\":");
            if self.text.starts_with(&call) {
                self.branch = Branch::Call;
            } else if self.text.starts_with(&answer) {
                self.branch = Branch::Answer(answer.len());
            }
        }
        match self.branch {
            // The last character may be the wrapping object's closing brace.
            Branch::Answer(start) if self.structured => {
                let end = self.text.len() - self.text.chars().next_back().map_or(0, char::len_utf8);
                self.send_raw(start, end.max(start))
            }
            Branch::Answer(start) => self.send_decoded(start),
            Branch::Undecided | Branch::Call => String::new(),
        }
    }

    /// The deltas that end the reply and the finish reason: a complete call becomes a tool
    /// request (finish `ToolCalls`); an answer sends what it held back.
    pub(crate) fn finish(mut self, finish: FinishReason) -> (Vec<ModelDelta>, FinishReason) {
        match self.branch {
            Branch::Call => match self.call() {
                Some(delta) if finish == FinishReason::Stop => {
                    (vec![delta], FinishReason::ToolCalls)
                }
                _ => (Vec::new(), finish),
            },
            Branch::Answer(start) if self.structured => {
                let end = match finish {
                    FinishReason::Stop => self.text.len().saturating_sub(1),
                    _ => self.text.len(),
                };
                let rest = self.send_raw(start, end.max(start));
                (text_delta(rest), finish)
            }
            Branch::Answer(start) => {
                let rest = self.send_decoded(start);
                (text_delta(rest), finish)
            }
            Branch::Undecided => (Vec::new(), finish),
        }
    }

    fn send_raw(&mut self, start: usize, end: usize) -> String {
        let from = (start + self.sent).min(end);
        let out = self.text[from..end].to_owned();
        self.sent = end - start;
        out
    }

    /// The answer's decoded text not sent yet: the longest prefix of its JSON string whose
    /// escapes are complete.
    fn send_decoded(&mut self, start: usize) -> String {
        let Some(body) = self.text[start..].strip_prefix('"') else {
            return String::new();
        };
        let mut end = body.len();
        for _ in 0..=LONGEST_ESCAPE + 2 {
            if let Ok(decoded) = serde_json::from_str::<String>(&format!("\"{}\"", &body[..end])) {
                let out: String = decoded.chars().skip(self.sent).collect();
                self.sent += out.chars().count();
                return out;
            }
            match body[..end].char_indices().next_back() {
                Some((at, _)) => end = at,
                None => break,
            }
        }
        String::new()
    }

    /// The tool request of a complete call.
    fn call(&self) -> Option<ModelDelta> {
        let mut reply: Value = serde_json::from_str(&self.text).ok()?;
        let name = reply.get(CALL_KEY)?.as_str()?.to_owned();
        let arguments = reply.get_mut("arguments")?.take();
        Some(ModelDelta::ToolRequest {
            index: 0,
            id: Some(self.call_id.clone()),
            name: Some(name),
            arguments: arguments.to_string(),
            metadata: None,
        })
    }
}

/// `text` as a delta, unless empty.
fn text_delta(text: String) -> Vec<ModelDelta> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![ModelDelta::Text(text)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        structured: bool,
        pieces: &[&str],
        finish: FinishReason,
    ) -> (Vec<String>, Vec<ModelDelta>, FinishReason) {
        let mut out = ChoiceOut::new(structured, "call_0".to_owned());
        let sent = pieces.iter().map(|p| out.push(p)).collect();
        let (last, finish) = out.finish(finish);
        (sent, last, finish)
    }

    #[test]
    fn a_call_streams_no_text_and_ends_as_one_tool_request() {
        let (sent, last, finish) = run(
            false,
            &[
                "{\"",
                "tool\":\"",
                "weather\",\"arguments\":{\"city\":",
                "\"Oslo\"}}",
            ],
            FinishReason::Stop,
        );
        assert!(sent.iter().all(String::is_empty), "{sent:?}");
        assert_eq!(
            last,
            [ModelDelta::ToolRequest {
                index: 0,
                id: Some("call_0".to_owned()),
                name: Some("weather".to_owned()),
                arguments: "{\"city\":\"Oslo\"}".to_owned(),
                metadata: None,
            }]
        );
        assert_eq!(finish, FinishReason::ToolCalls);
        let (_, last, finish) = run(
            false,
            &["{\"tool\":\"weather\",\"argu"],
            FinishReason::Length,
        );
        assert_eq!((last, finish), (Vec::new(), FinishReason::Length));
    }

    #[test]
    fn a_text_answer_streams_decoded_as_its_escapes_complete() {
        let (sent, last, finish) = run(
            false,
            &[
                "{\"answer\":\"",
                "Hi \\",
                "\"you\\",
                "\" \\ud83d",
                "\\ude00\\n",
                "\"}",
            ],
            FinishReason::Stop,
        );
        assert_eq!(sent, ["", "Hi ", "\"you", "\" ", "😀\n", ""]);
        assert_eq!((last, finish), (Vec::new(), FinishReason::Stop));
        let (sent, last, _) = run(
            false,
            &["{\"answer\":\"cut sh", "ort"],
            FinishReason::Length,
        );
        assert_eq!(sent, ["cut sh", "ort"]);
        assert!(last.is_empty());
    }

    #[test]
    fn a_structured_answer_streams_its_value_without_the_wrapper() {
        let (sent, last, finish) = run(
            true,
            &["{\"answer\":", "{\"n\":", "1}", "}"],
            FinishReason::Stop,
        );
        assert_eq!(sent, ["", "{\"n\"", ":1", "}"]);
        assert_eq!((last, finish), (Vec::new(), FinishReason::Stop));
        let (sent, last, _) = run(true, &["{\"answer\":[1,", "2]"], FinishReason::Length);
        assert_eq!(sent.concat(), "[1,2");
        assert_eq!(last, [ModelDelta::Text("]".to_owned())]);
    }
}
